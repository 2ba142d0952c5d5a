"""Where a block's sentences are in its audio, for providers that say nothing about it
(OpenAI-type, Volcano Engine): found in the audio itself.

Speakers pause between sentences, and often inside them, at commas and the like. So the
block's pauses (runs of quiet frames inside its speech) are found and matched, in order, to the
places in the text where a pause may be: every sentence boundary (which must get a pause) and
every clause mark (which may). Each such place has an expected position: its share of the
characters on the voiced timeline (the speech with its pauses taken out, as the pace of speech
is steady and the pauses are what varies). The matching (a small dynamic programme) prefers
long pauses near where they are expected; giving the commas their own pauses keeps a comma's
pause from being taken for a nearby sentence's end. Each boundary goes just before the speech
that follows its pause. With fewer pauses than boundaries, all are placed by characters alone.

bench/timings_bench.py and tests/utils/test_timings.py measure the error against Piper's exact
sentence spans.
"""

from __future__ import annotations

import re

import numpy as np

from utils.audio.marks import Marks, Source, Span, sentence_ranges
from utils.audio.word_estimate import estimate_words

FRAME_MS = 10
# Where a clause ends inside a sentence, and a speaker may pause: , ; : and dashes.
_CLAUSE = re.compile(r"[,;:\u2013\u2014](?=\s)|\s[-\u2013\u2014](?=\s)")
# A frame is quiet below this level relative to the block's loudest frames (their 95th
# percentile, so one click does not set the scale).
QUIET_DB = -32.0
# Pauses shorter than this are the gaps inside words (stops, plosives), not between them.
MIN_PAUSE_MS = 80
# Quiet runs this close together are one pause (a click or a breath inside it).
MERGE_MS = 30
# Where in a pause a boundary goes: this long before the next sentence's speech (what a
# subtitle wants), or the middle of a shorter pause. Piper's sentences begin with 50-60 ms of
# their own quiet, which is where its exact boundaries are.
LEAD_MS = 50
# How much a pause's distance from where a boundary is expected weighs against its length:
# a pause 1 s further off must be 500 ms longer to be preferred (tuned on bench/timings_bench.py).
DISTANCE_WEIGHT = 0.5


def find_pauses(samples: np.ndarray, sample_rate: int) -> tuple[list[tuple[int, int]], int, int]:
    """Quiet runs of at least MIN_PAUSE_MS inside the speech, as (start, end) samples; and
    where the speech starts and ends."""
    frame = max(1, sample_rate * FRAME_MS // 1000)
    n = samples.size // frame
    if n == 0:
        return [], 0, samples.size
    frames = samples[: n * frame].astype(np.float32).reshape(n, frame)
    level = np.sqrt(np.mean(frames**2, axis=1))
    reference = float(np.percentile(level, 95))
    if reference <= 0:
        return [], 0, samples.size
    loud = level > reference * 10 ** (QUIET_DB / 20)
    where = np.flatnonzero(loud)
    if where.size == 0:
        return [], 0, samples.size
    first, last = int(where[0]), int(where[-1])
    pauses, run_start = [], None
    for i in range(first, last + 1):
        if not loud[i] and run_start is None:
            run_start = i
        elif loud[i] and run_start is not None:
            pauses.append((run_start * frame, i * frame))
            run_start = None
    merged: list[tuple[int, int]] = []
    for start, end in pauses:
        if merged and start - merged[-1][1] <= MERGE_MS * sample_rate // 1000:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    shortest = MIN_PAUSE_MS * sample_rate // 1000
    return [p for p in merged if p[1] - p[0] >= shortest], first * frame, (last + 1) * frame


def _voiced_positions(pauses: list[tuple[int, int]], speech_start: int) -> list[float]:
    """Each pause's place on the voiced timeline: the speech before it, less earlier pauses."""
    out, quiet = [], 0
    for start, end in pauses:
        out.append(start - speech_start - quiet)
        quiet += end - start
    return out


def _match(
    pauses: list[tuple[int, int]], places: list[float], breaks: list[tuple[float, bool]]
) -> dict[int, int]:
    """Pauses matched in order to `breaks` (expected place, must it have a pause?), for the
    largest total of (length - DISTANCE_WEIGHT * distance): break index -> pause index. A
    pause may go unmatched (a breath), and so may a break that need not have one."""
    k, m = len(breaks), len(pauses)
    score = np.full((k + 1, m + 1), -np.inf)
    score[0, :] = 0.0
    move = np.zeros((k + 1, m + 1), dtype=np.int8)  # 1: matched, 2: pause left, 3: break left
    for j, (expected, required) in enumerate(breaks, start=1):
        if not required:
            score[j, 0], move[j, 0] = score[j - 1, 0], 3
        for i in range(1, m + 1):
            start, end = pauses[i - 1]
            options = [
                (
                    score[j - 1, i - 1]
                    + (end - start)
                    - DISTANCE_WEIGHT * abs(places[i - 1] - expected),
                    1,
                ),
                (score[j, i - 1], 2),
            ]
            if not required:
                options.append((score[j - 1, i], 3))
            score[j, i], move[j, i] = max(options)
    matched, j, i = {}, k, m
    while j > 0:
        if move[j, i] == 1:
            matched[j - 1] = i - 1
        j, i = (j - 1, i - 1) if move[j, i] == 1 else (j, i - 1) if move[j, i] == 2 else (j - 1, i)
    return matched


def estimate_marks(samples: np.ndarray, sample_rate: int, text: str, language: str = "en") -> Marks:
    """The block's sentences placed in its audio, and their words within them (source
    "estimated": utils/audio/word_estimate.py)."""
    sentences = _sentences(samples, sample_rate, text, language)
    words = estimate_words(samples, sample_rate, text, sentences)
    return Marks(Source.ESTIMATED, sentences, words)


def _sentences(samples: np.ndarray, sample_rate: int, text: str, language: str) -> tuple:
    total = int(samples.size)
    ranges = sentence_ranges(text, language) or [(0, len(text))]
    if len(ranges) == 1:
        return (Span(*ranges[0], 0, total),)
    pauses, speech_start, speech_end = find_pauses(samples, sample_rate)
    chars = [b - a for a, b in ranges]
    share = np.cumsum(chars)[:-1] / sum(chars)
    if len(pauses) >= len(share):
        places = _voiced_positions(pauses, speech_start)
        voiced = speech_end - speech_start - sum(end - start for start, end in pauses)
        ends = {end for _, end in ranges[:-1]}
        clauses = [c.end() for c in _CLAUSE.finditer(text) if c.end() not in ends]
        where = sorted([(end, True) for end in ends] + [(c, False) for c in clauses])
        matched = _match(pauses, places, [(at / len(text) * voiced, need) for at, need in where])
        lead = LEAD_MS * sample_rate // 1000
        cuts = [
            max(end - lead, (start + end) // 2)
            for start, end in (pauses[matched[j]] for j, (_, need) in enumerate(where) if need)
        ]
    else:
        cuts = [round(speech_start + s * (speech_end - speech_start)) for s in share]
    edges = [0, *cuts, total]
    return tuple(Span(a, b, edges[i], edges[i + 1]) for i, (a, b) in enumerate(ranges))
