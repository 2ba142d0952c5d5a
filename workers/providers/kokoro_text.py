"""Text as Kokoro's phoneme tokens, with the tokens each word of the text is spoken by, cut into
runs the model takes.

Words to phonemes. espeak-ng phonemizes a stretch of text (between punctuation) as a whole, so
context is kept, and its phoneme words are given back to the text's words as
workers/providers/phoneme_words.py says (counted where the counts agree, aligned otherwise).

Punctuation and spaces belong to no word. A run of tokens is cut at sentence ends first, then
after , ; : and other punctuation, then at spaces: never inside a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from utils.audio.marks import sentence_ranges, word_ranges
from workers.providers.espeak import phoneme_words, stretches
from workers.providers.phoneme_words import owners as phoneme_owners

SENTENCE, CLAUSE, SPACE = 0, 1, 2


@dataclass(frozen=True)
class Word:
    """Characters [char_start, char_end) of the text, spoken by tokens [start, end)."""

    char_start: int
    char_end: int
    start: int
    end: int


@dataclass
class Tokens:
    """A text's tokens (no pads), its words and sentences over them, and where runs may be cut:
    before token i at `breaks[i]` (SENTENCE, CLAUSE or SPACE)."""

    ids: list[int] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    sentences: list[tuple[int, int, int]] = field(default_factory=list)  # chars a, b; token
    breaks: dict[int, int] = field(default_factory=dict)
    methods: dict[str, int] = field(default_factory=dict)  # words mapped by each method


def tokenize(text: str, language: str, vocab: dict[str, int]) -> Tokens:
    """`text`'s tokens, words and sentences; `language` as espeak-ng names it (en-us, fr-fr).
    Phonemes written inline as `[[ ... ]]` are taken as they are (symbols of the model's
    vocabulary; others left out), one word spanning the brackets."""
    out = Tokens()
    space = vocab.get(" ")
    ranges = sentence_ranges(text, language.split("-")[0]) or [(0, len(text))]
    for a, b in ranges:
        if out.ids and space is not None:
            out.breaks[len(out.ids)] = SENTENCE
            out.ids.append(space)
        first = len(out.ids)
        glued = True  # nothing to put a space after yet
        cursor = a
        for inline in INLINE_PHONEMES.finditer(text, a, b):
            glued = _plain(text, cursor, inline.start(), b, language, vocab, out, glued)
            start = inline.start()
            if not glued and space is not None and start > 0 and text[start - 1].isspace():
                out.breaks.setdefault(len(out.ids), SPACE)
                out.ids.append(space)
            ids = [vocab[p] for p in " ".join(inline.group(1).split()) if p in vocab]
            if ids:
                out.words.append(Word(start, inline.end(), len(out.ids), len(out.ids) + len(ids)))
                out.ids += ids
                glued = False
            cursor = inline.end()
        _plain(text, cursor, b, b, language, vocab, out, glued)
        out.sentences.append((a, b, first))
    return out


INLINE_PHONEMES = re.compile(r"\[\[(.*?)\]\]", re.S)


def _plain(text, a, b, limit, language, vocab, out: Tokens, glued: bool) -> bool:
    """The words and punctuation of text[a:b] (of a sentence ending at `limit`) into `out`;
    whether still nothing was said to put a space after."""
    space = vocab.get(" ")
    for stretch in stretches(text[a:b]):
        start, end = stretch.start + a, stretch.end + a
        if stretch.punctuation is not None:
            if space is not None and not glued and text[start - 1].isspace():
                out.ids.append(space)
            out.ids += [vocab[p] for p in stretch.punctuation if p in vocab]
            out.breaks.setdefault(len(out.ids), CLAUSE)
            glued = end < limit and not text[end].isspace()
            continue
        if not glued and space is not None:
            out.breaks.setdefault(len(out.ids), SPACE)
            out.ids.append(space)
        glued = _speak(text, start, end, language, vocab, out) and glued
    return glued


def _speak(text: str, start: int, end: int, language: str, vocab, out: Tokens) -> bool:
    """The words of text[start:end] into `out`; False once something was said."""
    spans = word_ranges(text, start, end)
    words = [text[s:e] for s, e in spans]
    phonemes = " ".join(phoneme_words(text[start:end], language))
    if not phonemes or not words:
        return True
    alone = [phoneme_words(word, language) for word in words]
    owners, method = phoneme_owners(alone, phonemes)
    out.methods[method] = out.methods.get(method, 0) + len(words)
    first_token: dict[int, int] = {}
    last_token: dict[int, int] = {}
    for symbol, owner in zip(phonemes, owners, strict=True):
        if symbol not in vocab:
            continue
        if owner is None:
            out.breaks.setdefault(len(out.ids), SPACE)
        else:
            first_token.setdefault(owner, len(out.ids))
            last_token[owner] = len(out.ids) + 1
        out.ids.append(vocab[symbol])
    for w, (s, e) in enumerate(spans):
        s, e = _whole_run(text, s, e, start, end)
        if w in first_token:
            out.words.append(Word(s, e, first_token[w], last_token[w]))
        else:  # said by nothing (espeak-ng skipped it): where it stands, lasting no time
            at = out.words[-1].end if out.words else len(out.ids)
            out.words.append(Word(s, e, at, at))
    return False


def _whole_run(text: str, s: int, e: int, start: int, end: int) -> tuple[int, int]:
    """A word's characters with the punctuation around it ('"quoted",' for quoted), where
    that run of non-space holds no other word."""
    left, right = s, e
    while left > 0 and not text[left - 1].isspace():
        left -= 1
    while right < len(text) and not text[right].isspace():
        right += 1
    inside = (left >= start or not text[left:start].strip("".join(_PUNCT_SET))) and (
        right <= end or not text[end:right].strip("".join(_PUNCT_SET))
    )
    return (left, right) if inside else (s, e)


_PUNCT_SET = set(';:,.!?—…"()“”«»–¡¿，。！？；：、')


def runs(tokens: Tokens, limit: int, space: int | None) -> list[tuple[int, int]]:
    """Token ranges of at most `limit` tokens covering all words, cut at the strongest breaks
    that make them fit; a space at either end of a run is left out."""
    out = []
    for a, b in _split(tokens.breaks, 0, len(tokens.ids), limit, SENTENCE):
        while a < b and tokens.ids[a] == space:
            a += 1
        while b > a and tokens.ids[b - 1] == space:
            b -= 1
        if a < b:
            out.append((a, b))
    return out


def _split(breaks: dict[int, int], a: int, b: int, limit: int, level: int) -> list[tuple]:
    if b - a <= limit:
        return [(a, b)]
    if level > SPACE:  # one word longer than a run: cut it, as nothing else can be done
        return [(i, min(i + limit, b)) for i in range(a, b, limit)]
    points = [a, *sorted(p for p, kind in breaks.items() if a < p < b and kind <= level), b]
    out: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for s, e in zip(points, points[1:], strict=False):
        if current and e - current[0] <= limit:
            current = (current[0], e)
            continue
        if current:
            out.append(current)
        current = None
        if e - s <= limit:
            current = (s, e)
        else:
            out += _split(breaks, s, e, limit, level + 1)
    return [*out, current] if current else out
