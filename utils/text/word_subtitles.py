"""Subtitles that follow each word, from a job's word timings (GET /result/{id}/subtitles.vtt or
.srt with ?words=true).

WebVTT: the usual cues (utils/text/subtitles.py), each word after a cue's first preceded by a
WebVTT cue timestamp, `<00:00:01.200>`, the standard karaoke form: a player shows the words
before it as past and those after as future (the CSS ::past and ::future of the cue).

SRT has no such tags, so its cues are cut by words instead: one line of at most `max_chars`
characters, lasting at most `max_seconds`, never across a sentence's end, each from its first
word's start to its last word's end.

Words come from the provider's word timings; a sentence of a block without them (a job whose
blocks have different providers) has its words spread over it by characters.
"""

from __future__ import annotations

import webvtt

from utils.audio.marks import word_ranges
from utils.audio.timings import Timed
from utils.text.subtitles import (
    Cue,
    cue_words,
    sentence_cues,
    to_srt,
    vtt_escape,
    vtt_time,
    without_overlaps,
    words_by_sentence,
)

MAX_CHARS, MAX_SECONDS = 42, 3.0


def _by_characters(sentence: Timed, offset: int) -> int:
    span = sentence.end_ms - sentence.start_ms
    return sentence.start_ms + round(span * offset / (len(sentence.text) or 1))


def _sentence_words(sentence: Timed, own: list[Timed]) -> list[tuple[str, int, int]]:
    """(text, start, end) of each word of the sentence."""
    if own:
        return [(w.text, w.start_ms, w.end_ms) for w in sorted(own, key=lambda w: w.chars)]
    return [
        (sentence.text[a:b], _by_characters(sentence, a), _by_characters(sentence, b))
        for a, b in word_ranges(sentence.text)
    ]


def word_srt(
    sentences: list[Timed],
    words: list[Timed],
    max_chars: int = MAX_CHARS,
    max_seconds: float = MAX_SECONDS,
) -> str:
    """SRT of one-line cues cut at words (a single word longer than `max_chars` is a cue)."""
    cues: list[Cue] = []
    for sentence, own in words_by_sentence(sentences, words).items():
        group: list[tuple[str, int, int]] = []
        for word in [*_sentence_words(sentence, own), None]:
            if group and (
                word is None
                or len(" ".join(w[0] for w in [*group, word])) > max_chars
                or word[2] - group[0][1] > max_seconds * 1000
            ):
                line = " ".join(w[0] for w in group)
                cues.append(Cue(group[0][1], max(group[0][1], group[-1][2]), (line,)))
                group = []
            if word is not None:
                group.append(word)
    return to_srt(without_overlaps(cues))


def _tagged(cue: Cue) -> list[str]:
    """The cue's lines with a timestamp before each word that starts inside it, after the
    one before (WebVTT asks for timestamps within the cue, increasing)."""
    lines, times, last = [], iter(cue.word_ms), cue.start_ms
    for line in cue.lines:
        out = []
        for word in line.split(" "):
            at = next(times, None)
            if at is not None and last < at < cue.end_ms:
                out.append(f"<{vtt_time(at)}>{vtt_escape(word)}")
                last = at
            else:
                out.append(vtt_escape(word))
        lines.append(" ".join(out))
    return lines


def karaoke_vtt(sentences: list[Timed], words: list[Timed]) -> str:
    """WebVTT of the usual cues, each word with its time."""
    cues: list[Cue] = []
    for sentence, own in words_by_sentence(sentences, words).items():
        starts = {w.chars[0] - sentence.chars[0]: w.start_ms for w in own}
        times = [starts.get(at, _by_characters(sentence, at)) for at, _ in cue_words(sentence.text)]
        used = 0
        for cue in sentence_cues(sentence, starts):
            count = sum(len(line.split(" ")) for line in cue.lines)
            cues.append(Cue(cue.start_ms, cue.end_ms, cue.lines, tuple(times[used : used + count])))
            used += count
    captions = [
        webvtt.Caption(vtt_time(cue.start_ms), vtt_time(cue.end_ms), _tagged(cue))
        for cue in without_overlaps(cues)
    ]
    return webvtt.WebVTT(captions=captions).content
