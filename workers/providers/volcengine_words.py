"""Word times from Volcano Engine's answer, as marks of the block's text.

Asked with `"with_frontend": 1, "frontend_type": "unitTson"`, the HTTP API adds to its answer
`addition.frontend`: a JSON document (sent as a string) whose `words` give each word's
`start_time` and `end_time` in seconds of the returned audio. The words are the engine's own
(a Chinese word of several characters, an English word without its punctuation), so each is
found in the text in order; a word that cannot be found (the engine reads "42" as digits it
reports differently) is skipped, and the marks say `aligned`: the provider's own times.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from utils.audio.marks import Marks, Source, Span, sentence_ranges

FRONTEND_OPTIONS = {"with_frontend": 1, "frontend_type": "unitTson"}


def frontend_words(answer: object) -> list[tuple[str, float, float]]:
    """(word, start s, end s) from an answer's addition.frontend; [] where absent or unreadable."""
    addition = answer.get("addition") if isinstance(answer, dict) else None
    frontend = addition.get("frontend") if isinstance(addition, dict) else None
    if isinstance(frontend, str):
        try:
            frontend = json.loads(frontend)
        except ValueError:
            return []
    words = frontend.get("words") if isinstance(frontend, dict) else None
    found = []
    for word in words if isinstance(words, list) else []:
        try:
            text = str(word["word"]).strip()
            start, end = float(word["start_time"]), float(word["end_time"])
        except (KeyError, TypeError, ValueError):
            continue
        if text and 0 <= start <= end:
            found.append((text, start, end))
    return found


def word_spans(
    text: str, offset: int, words: Sequence[tuple[str, float, float]], rate: int, at: int
) -> list[Span]:
    """The words found in order in `text` (a piece starting at character `offset` of the
    block's text), placed `at` samples into the block's audio."""
    spans, cursor, folded = [], 0, text.casefold()
    for word, start_s, end_s in words:
        where = folded.find(word.casefold(), cursor)
        if where < 0:
            continue
        cursor = where + len(word)
        start, end = at + round(start_s * rate), at + round(end_s * rate)
        spans.append(Span(offset + where, offset + cursor, start, end))
    return spans


def marks_of_words(text: str, words: list[Span], language: str = "zh") -> Marks | None:
    """Sentences from the words they hold (first word's start to last word's end); None
    without words (the service then estimates, as for providers that give none)."""
    if not words:
        return None
    sentences = []
    for char_start, char_end in sentence_ranges(text, language) or [(0, len(text))]:
        inside = [w for w in words if char_start <= w.char_start < char_end]
        if inside:
            sentences.append(Span(char_start, char_end, inside[0].start, inside[-1].end))
    return Marks(Source.ALIGNED, tuple(sentences), tuple(words))
