"""Progressive audio: a job's MP3 sent block by block while the job still runs.

Each block goes out as soon as it is stored, followed by its silence frames (which depend on
that block alone), so playback starts long before the job ends and the bytes streamed are the
same bytes the combine writes to the final file.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from starlette.concurrency import run_in_threadpool

from utils.audio.formats import OutputFormat
from utils.audio.mp3_frames import silence_frame
from utils.audio.timeline import silence_frames_after
from utils.jobs.models import BlockRecord, BlockStatus, JobRecord, JobStatus
from utils.names import block_key, job_key
from utils.storage.base import Storage

POLL_S = 0.02  # how soon a finished block is noticed


async def _wait_for_block(
    client: aioredis.Redis, job_id: str, index: int, give_up_s: float
) -> BlockRecord | None:
    """The block once completed; None if the job failed or stopped progressing."""
    deadline = time.monotonic() + give_up_s
    while time.monotonic() < deadline:
        raw = await client.hgetall(block_key(job_id, index))
        if raw.get("status") == BlockStatus.COMPLETED.value:
            return BlockRecord.from_hash(index, raw)
        if await client.hget(job_key(job_id), "status") in (JobStatus.FAILED.value, None):
            return None
        await asyncio.sleep(POLL_S)
    return None


def _read(storage: Storage, block: BlockRecord) -> bytes:
    with storage.open(block.storage_key) as handle:
        return handle.read()


async def stream_blocks(
    client: aioredis.Redis, storage: Storage, job: JobRecord, give_up_s: float
) -> AsyncIterator[bytes]:
    fmt = OutputFormat.parse(job.output_format)
    silence = silence_frame(fmt)
    for index in range(job.n_blocks):
        block = await _wait_for_block(client, job.id, index, give_up_s)
        if block is None:
            return  # the job failed: the stream ends where the audio does
        yield await run_in_threadpool(_read, storage, block)
        frames = silence_frames_after(
            block.n_samples, block.n_frames, block.spec.wait_after_ms, fmt
        )
        if frames:
            yield silence * frames
