"""Where a block's sentences and words sit in its audio: spans of samples, each with the
characters of the block's text it speaks.

A provider fills them where it knows (ProviderAudio.marks):

    synthesized  each sentence was synthesized as its own piece (Piper): exact by construction;
                 its words from the samples the model spoke each phoneme for
    aligned      the provider's own alignment of characters to time (ElevenLabs with-timestamps)
    estimated    neither: found in the audio afterwards (utils/audio/sentence_estimate.py)

Spans are in samples of the audio they describe; `scaled` moves them to another rate, as the
worker resamples the audio to the job's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from utils.text.sentences import sentences

_WORD = re.compile(r"\S+")


class Source(StrEnum):
    SYNTHESIZED = "synthesized"
    ALIGNED = "aligned"
    ESTIMATED = "estimated"


@dataclass(frozen=True)
class Span:
    """Characters [char_start, char_end) of the text, heard in samples [start, end)."""

    char_start: int
    char_end: int
    start: int
    end: int

    def scaled(self, factor: float, limit: int) -> Span:
        start, end = (min(round(x * factor), limit) for x in (self.start, self.end))
        return replace(self, start=start, end=end)


@dataclass(frozen=True)
class Marks:
    source: Source
    sentences: tuple[Span, ...]
    words: tuple[Span, ...] = ()

    def scaled(self, factor: float, limit: int) -> Marks:
        """The same marks in audio resampled by `factor`, none past `limit` samples."""
        return Marks(
            self.source,
            tuple(s.scaled(factor, limit) for s in self.sentences),
            tuple(w.scaled(factor, limit) for w in self.words),
        )


def sentence_ranges(text: str, language: str = "en") -> list[tuple[int, int]]:
    """The character ranges of `text`'s sentences (utils/text/sentences.py), in order."""
    ranges, cursor = [], 0
    for sentence in sentences(text, language):
        start = text.find(sentence, cursor)
        if start < 0:  # not expected (pysbd keeps the text as given), but never a wrong range
            continue
        ranges.append((start, start + len(sentence)))
        cursor = start + len(sentence)
    return ranges


def word_ranges(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The character ranges of the words (runs of non-space) in text[start:end]."""
    return [m.span() for m in _WORD.finditer(text, start, len(text) if end is None else end)]


def marks_of_pieces(ranges: Sequence[tuple[int, int]], lengths: Sequence[int]) -> Marks:
    """Sentences synthesized one after another, `lengths[i]` samples for `ranges[i]`."""
    spans, cursor = [], 0
    for (char_start, char_end), length in zip(ranges, lengths, strict=True):
        if length:
            spans.append(Span(char_start, char_end, cursor, cursor + length))
        cursor += length
    return Marks(Source.SYNTHESIZED, tuple(spans))


def marks_from_alignment(
    text: str,
    characters: Sequence[str],
    starts_s: Sequence[float],
    ends_s: Sequence[float],
    sample_rate: int,
    language: str = "en",
) -> Marks | None:
    """Sentences and words from a time per character of `text` (ElevenLabs' `alignment`).

    None where the characters are not the text's own (then the caller estimates instead).
    """
    if "".join(characters) != text or not (len(characters) == len(starts_s) == len(ends_s)):
        return None
    # One entry per character of the text: the alignment's characters are single code points.
    if len(characters) != len(text):
        return None

    def span(char_start: int, char_end: int) -> Span:
        return Span(
            char_start,
            char_end,
            round(starts_s[char_start] * sample_rate),
            round(ends_s[char_end - 1] * sample_rate),
        )

    ranges = sentence_ranges(text, language)
    return Marks(
        Source.ALIGNED,
        tuple(span(a, b) for a, b in ranges),
        tuple(span(a, b) for a, b in word_ranges(text)),
    )
