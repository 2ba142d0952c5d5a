"""Long text cut at sentence boundaries into pieces that workers synthesize in parallel.

Sentences come from pysbd (rule-based, 22 languages, knows "Dr." and "3.50" from a full stop);
pieces group whole sentences so each is worth a task. The first piece is the first sentence
alone: a stream's first bytes wait for it and nothing more.
"""

from __future__ import annotations

import re
import threading
import unicodedata

import pysbd

# pysbd's languages (ISO 639-1); text in any other is segmented with the English rules, which
# split at ., ! and ? like most alphabetic scripts.
SEGMENTER_LANGUAGES = frozenset(
    ("am", "ar", "bg", "da", "de", "el", "en", "es", "fa", "fr", "hi", "hy", "it", "ja", "kk",
     "mr", "my", "nl", "pl", "ru", "sk", "ur", "zh")
)  # fmt: skip


# One segmenter per thread and language: a pysbd Segmenter keeps the text it is working on in
# itself, so two threads sharing one (a worker's thread pool) get each other's sentences.
_per_thread = threading.local()


def _segmenter(language: str) -> pysbd.Segmenter:
    segmenters = _per_thread.__dict__.setdefault("segmenters", {})
    if language not in segmenters:
        segmenters[language] = pysbd.Segmenter(language=language, clean=False)
    return segmenters[language]


def speakable(text: str) -> bool:
    """Has a letter or a digit (Unicode L* or N*): anything else gives a voice nothing to say."""
    return any(unicodedata.category(char)[0] in "LN" for char in text)


# Where pysbd may end a sentence (terminal marks of its languages, line breaks, the brackets and
# quotes its rules split after), or a quote that may close one. Text with none of these before
# its last character is one sentence (checked against pysbd on 100,000 random strings): most
# blocks, each a sentence of a longer text, skip the segmenter's ~0.5 ms.
_MAY_END = re.compile(
    r"[.!?…;:\n\r)\]\"“”«»‘’\u0589\u061f\u06d4\u0964\u0965\u104a\u104b\u1362\u1367\u1368"
    r"\u203c\u2047-\u2049\u3002\uff01\uff0e\uff1f\uff61]|'(?=\s)"
)


def sentences(text: str, language: str = "en") -> list[str]:
    """The sentences of `text`, each with its own trailing spaces stripped; nothing dropped
    but whitespace between them."""
    body = text.strip()
    if not _MAY_END.search(body, 0, len(body) - 1):
        return [body] if body else []
    segmenter = _segmenter(language if language in SEGMENTER_LANGUAGES else "en")
    return [s.strip() for s in segmenter.segment(text) if s.strip()]


def _split_long(sentence: str, max_chars: int) -> list[str]:
    """A sentence longer than a piece may be, cut at the last space that fits (a comma if one
    is near), else hard at `max_chars`."""
    parts: list[str] = []
    rest = sentence
    while len(rest) > max_chars:
        window = rest[:max_chars]
        cut = window.rfind(", ")
        if cut < max_chars // 2:
            cut = window.rfind(" ")
        cut = cut + 1 if cut > 0 else max_chars
        parts.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [*parts, rest] if rest else parts


def pieces(text: str, piece_chars: int, max_chars: int, language: str = "en") -> list[str]:
    """`text` as pieces of whole sentences: the first sentence alone, then sentences grouped up
    to `piece_chars` characters; none longer than `max_chars`, each with something to say."""
    units: list[str] = []
    for sentence in sentences(text, language):
        units += _split_long(sentence, max_chars)
    out: list[str] = []
    for unit in units:
        if out and not speakable(unit):
            out[-1] = f"{out[-1]} {unit}"  # "..." or a lone quote mark: kept with what it ends
            continue
        grows = len(out) > 1 or (out and not speakable(out[0]))
        if grows and len(out[-1]) + 1 + len(unit) <= piece_chars:
            out[-1] = f"{out[-1]} {unit}"
        else:
            out.append(unit)
    return [p for p in out if speakable(p)] or ([text.strip()] if speakable(text) else [])
