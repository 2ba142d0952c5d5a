"""The combine: every block's frames in order, whole frames of silence between, one MP3.
Other formats encode the blocks' PCM once instead: workers/combine_encoded.py.

For MP3 nothing is decoded: block files are copied frame for frame (see utils/audio/timeline.py
for why the result is gapless and its pauses exact), so memory stays flat however long the job.
The frames follow an ID3 tag of the job's title, author, album, cover and chapters where it has
any (utils/audio/tags.py): the chapters' times come from the timeline, planned before any byte.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import BinaryIO

from utils.audio.formats import OutputFormat
from utils.audio.mp3_frames import silence_frame
from utils.audio.tags import id3_tag, job_tags
from utils.audio.timeline import Timeline, plan_timeline
from utils.errors import NO_SPACE, disk_error
from utils.jobs.cancellation import is_cancelled
from utils.jobs.covers import load_cover
from utils.jobs.models import JobRecord
from utils.storage.keys import final_audio_key
from workers.combine_encoded import combine_encoded
from workers.context import WorkerContext
from workers.metrics import combine_timer

log = logging.getLogger(__name__)

COPY_BUFFER = 256 * 1024


def write_stitched(
    out: BinaryIO, openers: list[Callable[[], BinaryIO]], timeline: Timeline, silence: bytes
) -> None:
    """Each block's frames in order, each followed by its whole frames of silence."""
    for open_block, placed in zip(openers, timeline.blocks, strict=True):
        with open_block() as source:
            shutil.copyfileobj(source, out, COPY_BUFFER)
        out.write(silence * placed.silence_frames_after)


def combine_job(ctx: WorkerContext, job_id: str) -> None:
    job = ctx.jobs.get(job_id)
    if job.status.finished:
        log.info("job %s is already %s; nothing to combine", job_id, job.status.value)
        return
    if not job.combine:
        # blocks alone: every block is stored, so the job is done; no file to make
        if is_cancelled(ctx.redis, job_id):  # by its owner since it was read above
            return
        ctx.jobs.complete(job, None, sum(b.duration_ms or 0 for b in job.blocks), [])
        log.info("job %s completed: %d blocks, not combined", job_id, job.n_blocks)
        return
    ctx.jobs.set_combining(job_id)
    # cancelled since it was read (set_combining leaves a cancelled job as it is); from here
    # on the job is combining, which a cancel refuses
    if is_cancelled(ctx.redis, job_id):
        return
    fmt = OutputFormat.parse(job.output_format)
    try:
        with combine_timer(fmt.family_name):
            if fmt.is_mp3:
                key, timeline = _stitch_mp3(ctx, job, fmt)
            else:
                key, timeline = combine_encoded(ctx, job, fmt)
    except OSError as exc:  # the file being made, in TEMP_DIR (the store's own are translated)
        if exc.errno not in NO_SPACE:
            raise
        raise disk_error(exc, "the combined file could not be written", "TEMP_DIR") from exc
    offsets = [(timeline.ms(p.start_sample), timeline.ms(p.end_sample)) for p in timeline.blocks]
    ctx.jobs.complete(job, key, timeline.ms(timeline.total_samples), offsets)
    log.info("job %s completed: %d blocks", job_id, job.n_blocks)


def _stitch_mp3(ctx: WorkerContext, job: JobRecord, fmt: OutputFormat) -> tuple[str, Timeline]:
    job_id = job.id
    timeline = plan_timeline(
        [(b.n_samples, b.n_frames, b.spec.wait_after_ms) for b in job.blocks], fmt
    )
    starts = [timeline.ms(p.start_sample) for p in timeline.blocks]
    cover = load_cover(ctx.storage, job_id, job.options.cover)
    tag = id3_tag(job_tags(job, starts, timeline.ms(timeline.total_samples), cover))
    ctx.settings.TEMP_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        dir=ctx.settings.TEMP_DIR, prefix=f"combine-{job_id}-", suffix=".mp3", delete=False
    ) as out:
        try:
            out.write(tag)  # b"" for a job without tags or chapters: bare frames
            openers = [partial(ctx.storage.open, b.storage_key) for b in job.blocks]
            write_stitched(out, openers, timeline, silence_frame(fmt))
        except BaseException:
            Path(out.name).unlink(missing_ok=True)
            raise
    key = final_audio_key(job_id)
    ctx.storage.put_file(key, Path(out.name))
    return key, timeline
