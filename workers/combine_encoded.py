"""The combine outside MP3: every block's source PCM in order, each followed by its exact
silence, through one encoder into one file (utils/audio/encoders.py encode_file).

One encoder over the whole timeline has no boundaries: no delay or padding per block, so every
block lands where the arithmetic says, to the sample (utils/audio/timeline.py
plan_pcm_timeline). The job's title, author, album, cover and chapters go into the container's
own tags (utils/audio/tags.py). Pieces of PCM are streamed from storage into the encoder, so
memory stays flat however long the job. A lossy file for a job with a loudness target is
decoded and measured once written, and encoded again with dips where the encoder pushed a
true peak past the ceiling (utils/audio/peak_guard.py).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import BinaryIO

import numpy as np

from utils.audio.encoders import encode_file
from utils.audio.formats import OutputFormat
from utils.audio.pcm_pieces import read_pcm, silence
from utils.audio.peak_guard import Over, dipped, keep_under_ceiling
from utils.audio.tags import job_tags
from utils.audio.timeline import Timeline, plan_pcm_timeline
from utils.jobs.covers import load_cover
from utils.jobs.models import JobRecord
from utils.storage.keys import block_pcm_key, final_audio_key
from workers.context import WorkerContext

# Lossy families that one encoder makes of the whole timeline: the file's own true peak is
# checked against a loudness target's ceiling (utils/audio/peak_guard.py). MP3 files are the
# blocks' own frames, each checked through the codec on its worker; lossless ones keep the PCM.
PEAK_GUARDED = ("aac", "m4b", "opus")


def timeline_pieces(
    openers: list[Callable[[], BinaryIO]], timeline: Timeline
) -> Iterator[np.ndarray]:
    """Each block's PCM, then its silence (up to where the next block starts)."""
    ends = [p.start_sample for p in timeline.blocks[1:]] + [timeline.total_samples]
    for open_block, placed, next_start in zip(openers, timeline.blocks, ends, strict=True):
        with open_block() as source:
            yield from read_pcm(source)
        yield from silence(next_start - placed.end_sample)


def combine_encoded(ctx: WorkerContext, job: JobRecord, fmt: OutputFormat) -> tuple[str, Timeline]:
    """Write the job's final file in `fmt`; its storage key, and where each block landed."""
    timeline = plan_pcm_timeline(
        [(b.n_samples, b.spec.wait_after_ms) for b in job.blocks], fmt.sample_rate
    )
    ctx.settings.TEMP_DIR.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        dir=ctx.settings.TEMP_DIR, prefix=f"combine-{job.id}-", suffix=f".{fmt.extension}"
    )
    os.close(fd)  # the muxer opens it by name, to seek in it
    path = Path(name)
    try:
        openers = [partial(ctx.storage.open, block_pcm_key(job.id, b.index)) for b in job.blocks]
        starts = [timeline.ms(p.start_sample) for p in timeline.blocks]
        cover = load_cover(ctx.storage, job.id, job.options.cover)
        tags = job_tags(job, starts, timeline.ms(timeline.total_samples), cover)
        encode_file(fmt, timeline_pieces(openers, timeline), path, tags)
        ceiling = job.options.loudness.true_peak_db if job.options.loudness else None
        if ceiling is not None and fmt.family_name in PEAK_GUARDED:

            def encode_again(dips: list[Over]) -> None:
                encode_file(fmt, dipped(timeline_pieces(openers, timeline), dips), path, tags)

            keep_under_ceiling(path, fmt.sample_rate, ceiling, encode_again)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    key = final_audio_key(job.id, fmt.extension)
    ctx.storage.put_file(key, path)  # moves it (local) or uploads it
    return key, timeline
