"""Subtitles (SRT, WebVTT) from a job's sentence and word timings (utils/audio/timings.py).

A cue holds at most MAX_LINES lines of at most MAX_LINE_CHARS characters (the usual broadcast
limits). A sentence that fits is one cue over its span; a longer one is cut at word boundaries
into several, each timed by its first word where the provider gave word timings, else by its
share of the sentence's characters. Cues never overlap: each ends at the latest where the next
begins. Every time comes from the sample-exact block offsets, never from summed durations, so
nothing drifts however long the job.

The files are written by the `srt` and `webvtt-py` libraries, which tests parse them back with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta

import srt
import webvtt

from utils.audio.timings import Timed

MAX_LINE_CHARS = 42
MAX_LINES = 2
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]
    # where each word of `lines` starts, in order (utils/text/word_subtitles.py), if asked
    word_ms: tuple[int, ...] = ()


def cue_words(text: str) -> list[tuple[int, str]]:
    """Words with their offsets in `text`; a word longer than a line is cut into line-long
    pieces (a URL, say), which is the only place a cue breaks inside a word."""
    out = []
    for match in _WORD.finditer(text):
        word, at = match.group(), match.start()
        for i in range(0, len(word), MAX_LINE_CHARS):
            out.append((at + i, word[i : i + MAX_LINE_CHARS]))
    return out


def _lines(words: list[str]) -> list[str] | None:
    """`words` in at most MAX_LINES lines of at most MAX_LINE_CHARS, the lines as even as
    possible; None if they do not fit."""
    text = " ".join(words)
    if len(text) <= MAX_LINE_CHARS:
        return [text]
    best = None
    for cut in range(1, len(words)):
        first, second = " ".join(words[:cut]), " ".join(words[cut:])
        if len(first) <= MAX_LINE_CHARS and len(second) <= MAX_LINE_CHARS:
            longest = max(len(first), len(second))
            if best is None or longest < best[0]:
                best = (longest, [first, second])
    return best[1] if best else None


def _groups(words: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Consecutive words, as many per cue as fit."""
    groups: list[list[tuple[int, str]]] = []
    for word in words:
        if groups and _lines([w for _, w in groups[-1]] + [word[1]]) is not None:
            groups[-1].append(word)
        else:
            groups.append([word])
    return groups


def sentence_cues(sentence: Timed, word_starts: dict[int, int]) -> list[Cue]:
    """The cues of one sentence; `word_starts` maps a character offset in the sentence's text
    to the time its word starts, where known."""
    groups = _groups(cue_words(sentence.text))
    if not groups:
        return []
    length, span = len(sentence.text), sentence.end_ms - sentence.start_ms
    starts = []
    for index, group in enumerate(groups):
        offset = group[0][0]
        if index == 0:
            starts.append(sentence.start_ms)
        elif offset in word_starts:
            starts.append(word_starts[offset])
        else:
            starts.append(sentence.start_ms + round(span * offset / length))
    ends = [*starts[1:], sentence.end_ms]
    return [
        Cue(start, max(start, end), tuple(_lines([w for _, w in group])))
        for start, end, group in zip(starts, ends, groups, strict=True)
    ]


def words_by_sentence(sentences: list[Timed], words: list[Timed]) -> dict[Timed, list[Timed]]:
    """Each sentence's timed words (those of its block whose first character it holds)."""
    found: dict[Timed, list[Timed]] = {sentence: [] for sentence in sentences}
    of_block: dict[int, list[Timed]] = {}
    for sentence in sentences:
        of_block.setdefault(sentence.block, []).append(sentence)
    for word in words:
        for sentence in of_block.get(word.block, ()):
            if sentence.chars[0] <= word.chars[0] < sentence.chars[1]:
                found[sentence].append(word)
                break
    return found


def without_overlaps(cues: list[Cue]) -> list[Cue]:
    """The cues by start time, each ending at the latest where the next begins."""
    cues = sorted(cues, key=lambda cue: cue.start_ms)
    for i, (cue, after) in enumerate(zip(cues, cues[1:], strict=False)):
        if cue.end_ms > after.start_ms:
            cues[i] = replace(cue, end_ms=max(cue.start_ms, after.start_ms))
    return cues


def build_cues(sentences: list[Timed], words: list[Timed]) -> list[Cue]:
    """Every sentence's cues, in order, none overlapping the next."""
    # Each word's start, by its offset in its sentence.
    starts = {
        sentence: {w.chars[0] - sentence.chars[0]: w.start_ms for w in own}
        for sentence, own in words_by_sentence(sentences, words).items()
    }
    return without_overlaps(
        [cue for sentence in sentences for cue in sentence_cues(sentence, starts[sentence])]
    )


def to_srt(cues: list[Cue]) -> str:
    return srt.compose(
        [
            srt.Subtitle(
                index=i + 1,
                start=timedelta(milliseconds=cue.start_ms),
                end=timedelta(milliseconds=cue.end_ms),
                content="\n".join(cue.lines),
            )
            for i, cue in enumerate(cues)
        ],
        reindex=False,
    )


def vtt_time(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def vtt_escape(line: str) -> str:
    # Cue text is markup in WebVTT: a bare & or < would be read as an entity or a tag.
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: list[Cue]) -> str:
    captions = [
        webvtt.Caption(
            vtt_time(cue.start_ms), vtt_time(cue.end_ms), [vtt_escape(x) for x in cue.lines]
        )
        for cue in cues
    ]
    return webvtt.WebVTT(captions=captions).content
