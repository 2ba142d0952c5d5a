"""A block's sentence and word timings: made on its worker, stored with it, and placed in the
final audio when asked for.

Stored (JSON, one string per block; utils/jobs/store.py keeps it in `tts:job:{id}:timings`):

    {"rate": 24000, "source": "synthesized",
     "sentences": [[char_start, char_end, start, end], ...], "words": [[...], ...]}

in samples of the block's own audio at the job's rate: the samples stored, so a span never
drifts from the audio it describes. In the final audio a span starts at the block's start_ms
(where the combine put the block's first sample: utils/audio/timeline.py) plus its own offset,
so the times of the hundredth block are as exact as those of the first; nothing is summed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from utils.audio.marks import Marks, Source, Span, sentence_ranges
from utils.audio.pcm import ProviderAudio
from utils.audio.sentence_estimate import estimate_marks
from utils.jobs.models import BlockRecord, JobRecord


def block_timings(audio: ProviderAudio, samples: np.ndarray, sample_rate: int, text: str) -> str:
    """The block's timings as stored: the provider's marks moved to the job's rate, or, where
    it gave none, sentences found in the audio."""
    return dump_marks(
        block_marks(audio, samples.size, sample_rate, text, lambda: samples), sample_rate
    )


def block_marks(
    audio: ProviderAudio,
    n_samples: int,
    sample_rate: int,
    text: str,
    samples: Callable[[], np.ndarray],
) -> Marks:
    """The provider's marks at the job's rate, or sentences found in the audio; `samples()`
    is asked for only then (a block stored as it came is decoded only where it must be)."""
    marks = audio.marks
    if marks is not None and audio.sample_rate:
        return marks.scaled(sample_rate / audio.sample_rate, int(n_samples))
    return estimate_marks(samples(), sample_rate, text)


def dump_marks(marks: Marks, sample_rate: int) -> str:
    def rows(spans: tuple[Span, ...]) -> list[list[int]]:
        return [[s.char_start, s.char_end, s.start, s.end] for s in spans]

    return json.dumps(
        {
            "rate": sample_rate,
            "source": marks.source.value,
            "sentences": rows(marks.sentences),
            "words": rows(marks.words),
        },
        separators=(",", ":"),
    )


@dataclass(frozen=True)
class Timed:
    """A sentence or a word in the final audio."""

    block: int
    text: str
    start_ms: int
    end_ms: int
    source: str
    chars: tuple[int, int]  # where `text` is in the block's text


def _by_characters(text: str, length_ms: int) -> tuple[list[list[int]], int]:
    """Sentences spread over the block by their share of its characters: for blocks stored
    before timings were kept (an old cache entry). Rows in ms, at "rate" 1000."""
    ranges = sentence_ranges(text) or [(0, len(text))]
    total = sum(b - a for a, b in ranges) or 1
    rows, done, length = [], 0, length_ms
    for a, b in ranges:
        rows.append([a, b, round(done * length / total), round((done + b - a) * length / total)])
        done += b - a
    return rows, 1000


def _placed(
    rows: list[list[int]],
    rate: int,
    length: int,
    block: int,
    text: str,
    span_ms: tuple[int, int],
    source: str,
) -> list[Timed]:
    """Rows of (chars, samples at `rate` of a block `length` samples long) as times in
    `span_ms`, the block's place: a span to the block's end ends where the block does (not 1 ms
    off it, from rounding twice)."""
    offset_ms, end_ms = span_ms

    def at(sample: int) -> int:
        return end_ms if sample >= length else min(offset_ms + round(sample * 1000 / rate), end_ms)

    return [
        Timed(block, text[a:b], at(start), max(at(start), at(end)), source, (a, b))
        for a, b, start, end in rows
    ]


def block_span_ms(job: JobRecord, block: BlockRecord) -> tuple[int, int]:
    """Where a block is in the final audio (for a job not combined, in its own: from 0)."""
    if job.combine and block.start_ms is not None and block.end_ms is not None:
        return block.start_ms, block.end_ms
    return 0, block.duration_ms or 0


def job_timings(job: JobRecord, stored: list[str | None]) -> tuple[list[Timed], list[Timed]]:
    """Every sentence and word of a completed job, in the final audio's time (for a job not
    combined, in each block's own audio: every block starts at 0)."""
    sentences: list[Timed] = []
    words: list[Timed] = []
    for block, raw in zip(job.blocks, stored, strict=True):
        span_ms = block_span_ms(job, block)
        text = block.spec.text
        if raw:
            data = json.loads(raw)
            rate, source = data["rate"], data["source"]
            sentence_rows, word_rows = data["sentences"], data["words"]
            length = block.n_samples or float("inf")  # always set on a completed block
        else:
            length = span_ms[1] - span_ms[0]
            sentence_rows, rate = _by_characters(text, length)
            source, word_rows = Source.ESTIMATED.value, []
        placed = partial(_placed, rate=rate, length=length, block=block.index, text=text)
        sentences += placed(sentence_rows, span_ms=span_ms, source=source)
        words += placed(word_rows, span_ms=span_ms, source=source)
    return sentences, words
