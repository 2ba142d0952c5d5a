"""Where a block's sentences are in its audio, for providers that say nothing about it
(OpenAI-type, Volcano Engine): found in the audio itself.

Speakers pause between sentences, and often longer than inside them. So the block's pauses
(runs of quiet frames inside its speech) are found, and the sentence boundaries put in the
pauses that best fit them: each boundary has an expected place (its share of the characters,
on the voiced timeline: the speech with its pauses taken out, as the pace of speech is steady
and the pauses are what varies), and the pauses picked, in order, are the ones long and near
where expected (a small dynamic programme). Each boundary goes just before the speech that
follows its pause. With fewer pauses than boundaries, all are placed by characters alone.

bench/timings_bench.py and tests/utils/test_timings.py measure the error against Piper's exact
sentence spans.
"""

from __future__ import annotations

import numpy as np

from utils.audio.marks import Marks, Source, Span, sentence_ranges

FRAME_MS = 10
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


def _pick(pauses: list[tuple[int, int]], places: list[float], expected: list[float]) -> list[int]:
    """The indices of len(expected) pauses, in order, that best fit the expected boundaries:
    the largest total of (length - DISTANCE_WEIGHT * distance), distances between `places`
    (each pause's) and `expected` (each boundary's)."""
    k, m = len(expected), len(pauses)
    score = np.full((k + 1, m + 1), -np.inf)
    score[0, :] = 0.0
    took = np.zeros((k + 1, m + 1), dtype=bool)
    for b in range(1, k + 1):
        for p in range(b, m + 1):
            start, end = pauses[p - 1]
            gain = (end - start) - DISTANCE_WEIGHT * abs(places[p - 1] - expected[b - 1])
            skip, take = score[b, p - 1], score[b - 1, p - 1] + gain
            score[b, p], took[b, p] = (take, True) if take >= skip else (skip, False)
    chosen, b, p = [], k, m
    while b > 0:
        if took[b, p]:
            chosen.append(p - 1)
            b -= 1
        p -= 1
    return chosen[::-1]


def estimate_marks(samples: np.ndarray, sample_rate: int, text: str, language: str = "en") -> Marks:
    """The block's sentences placed in its audio (source "estimated")."""
    total = int(samples.size)
    ranges = sentence_ranges(text, language) or [(0, len(text))]
    if len(ranges) == 1:
        return Marks(Source.ESTIMATED, (Span(*ranges[0], 0, total),))
    pauses, speech_start, speech_end = find_pauses(samples, sample_rate)
    # Speech goes at a steady pace between pauses: a boundary is expected where its share of
    # the characters falls on the voiced timeline (the speech with its pauses taken out).
    chars = [b - a for a, b in ranges]
    share = np.cumsum(chars)[:-1] / sum(chars)
    if len(pauses) >= len(share):
        places = _voiced_positions(pauses, speech_start)
        voiced = speech_end - speech_start - sum(end - start for start, end in pauses)
        lead = LEAD_MS * sample_rate // 1000
        cuts = [
            max(end - lead, (start + end) // 2)
            for start, end in (pauses[i] for i in _pick(pauses, places, list(share * voiced)))
        ]
    else:
        cuts = [round(speech_start + s * (speech_end - speech_start)) for s in share]
    edges = [0, *cuts, total]
    return Marks(
        Source.ESTIMATED,
        tuple(Span(a, b, edges[i], edges[i + 1]) for i, (a, b) in enumerate(ranges)),
    )
