"""Progressive audio: a job's audio sent block by block while the job still runs.

MP3: each block goes out as soon as it is stored, followed by its silence frames (which depend
on that block alone), so playback starts long before the job ends and the frames streamed are
the same frames the combine writes to the final file. A job with a title, author, album or
cover opens its stream with an ID3 tag of them; its final file's tag adds the chapters and
length, so the two differ in their tags alone (a job with neither: byte for byte the same).

Other formats: block_pcm_in_order gives each block's PCM and its exact pause as the blocks are
made, and encode_stream runs a StreamEncoder (utils/audio/encoders.py) over it in a thread: one
valid stream of the format (AAC as ADTS, since MP4 cannot be written progressively), decoding
to the same timeline as the final file.

A stream waits on the job's pub/sub channel (utils/names.py job_events_channel), not by
polling: it listens first, then reads the block, so no change can slip between the two; the
process's streams share one subscribing connection (api/job_changes.py).
Each user may hold MAX_STREAMS_PER_USER streams open at once, counted in Redis as leases (a
stream whose API process died frees its place when its lease runs out).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing

import numpy as np
import redis
import redis.asyncio as aioredis
from starlette.concurrency import run_in_threadpool

from api.job_changes import Listener, job_changes
from utils.audio.encoders import StreamEncoder
from utils.audio.formats import OutputFormat
from utils.audio.mp3_frames import silence_frame
from utils.audio.pcm_pieces import samples_of_mp3_block
from utils.audio.tags import id3_tag, job_tags
from utils.audio.timeline import pause_samples, silence_frames_after
from utils.errors import RateLimited
from utils.jobs.async_reads import completed_block, job_failed_or_gone
from utils.jobs.covers import load_cover
from utils.jobs.models import BlockRecord, JobRecord
from utils.names import job_events_channel, open_streams_key
from utils.storage.base import Storage
from utils.storage.keys import block_pcm_key

RECHECK_S = 5.0  # a read even without news: a notification lost in a reconnect costs this long
LEASE_S = 60.0  # an open stream renews its place this often (see StreamHold.renew)


class OpenStreams:
    """The per-user cap on open streams, checked before a stream starts."""

    def __init__(self, client: redis.Redis, limit: int):
        self.redis = client
        self.limit = limit

    def acquire(self, username: str) -> StreamHold:
        """A place for one more stream of `username`; RateLimited (429) past the cap."""
        key, stream_id, now = open_streams_key(username), uuid.uuid4().hex, time.time()
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zadd(key, {stream_id: now + LEASE_S})
            pipe.zcard(key)
            pipe.expire(key, int(LEASE_S) * 2)
            count = pipe.execute()[2]
        if count > self.limit:
            self.redis.zrem(key, stream_id)
            raise RateLimited(
                f"at most {self.limit} streams (audio or job events) open at once per user",
                int(LEASE_S),
            )
        return StreamHold(key, stream_id)


class StreamHold:
    def __init__(self, key: str, stream_id: str):
        self.key, self.stream_id = key, stream_id
        self.renewed_at = time.monotonic()

    async def renew(self, client: aioredis.Redis) -> None:
        if time.monotonic() - self.renewed_at > LEASE_S / 3:
            await client.zadd(self.key, {self.stream_id: time.time() + LEASE_S})
            self.renewed_at = time.monotonic()

    async def release(self, client: aioredis.Redis) -> None:
        await client.zrem(self.key, self.stream_id)


async def _wait_for_block(
    client: aioredis.Redis,
    changes: Listener,
    job_id: str,
    index: int,
    deadline: float,
    hold: StreamHold | None,
) -> BlockRecord | None:
    """The block once completed; None if the job failed, expired or stopped progressing."""
    while time.monotonic() < deadline:
        if block := await completed_block(client, job_id, index):
            return block
        if await job_failed_or_gone(client, job_id):
            return None
        if hold:
            await hold.renew(client)
        # Any news of the job wakes us to read again; silence, after RECHECK_S.
        await changes.changed(RECHECK_S)
    return None


def _read(storage: Storage, key: str) -> bytes:
    with storage.open(key) as handle:
        return handle.read()


async def _completed_blocks(
    client: aioredis.Redis, job: JobRecord, give_up_s: float, hold: StreamHold | None
) -> AsyncIterator[BlockRecord]:
    """The job's blocks in order, each as soon as it is completed; ends early if the job fails.
    Releases the stream's hold when closed, however the stream ends."""
    try:
        async with job_changes(client).listen(job_events_channel(job.id)) as changes:
            for index in range(job.n_blocks):
                deadline = time.monotonic() + give_up_s  # per block: a long job streams long
                block = await _wait_for_block(client, changes, job.id, index, deadline, hold)
                if block is None:
                    return  # the job failed: the stream ends where the audio does
                yield block
    finally:
        if hold:
            await asyncio.shield(hold.release(client))


async def stream_blocks(
    client: aioredis.Redis,
    storage: Storage,
    job: JobRecord,
    give_up_s: float,
    hold: StreamHold | None = None,
) -> AsyncIterator[bytes]:
    """The job's audio as it is made, in its format's stream container (formats.py Family)."""
    fmt = OutputFormat.parse(job.output_format)
    if not fmt.is_mp3:
        pieces = block_pcm_in_order(client, storage, job, give_up_s, hold)
        encoder = StreamEncoder(fmt.family_name, fmt.sample_rate, fmt.bitrate_kbps)
        async with aclosing(encode_stream(pieces, encoder)) as stream:
            async for data in stream:
                yield data
        return
    silence = silence_frame(fmt)
    # What is known at submit (title, author, album, cover) opens the stream; the chapters'
    # times are not known until every block is: the final file carries them in a tag of its
    # own, before the same frames (utils/audio/tags.py).
    cover = await run_in_threadpool(load_cover, storage, job.id, job.options.cover)
    if tag := id3_tag(job_tags(job, cover=cover)):
        yield tag
    async with aclosing(_completed_blocks(client, job, give_up_s, hold)) as blocks:
        async for block in blocks:
            yield await run_in_threadpool(_read, storage, block.storage_key)
            frames = silence_frames_after(
                block.n_samples, block.n_frames, block.spec.wait_after_ms, fmt
            )
            if frames:
                yield silence * frames


async def block_pcm_in_order(
    client: aioredis.Redis,
    storage: Storage,
    job: JobRecord,
    give_up_s: float,
    hold: StreamHold | None = None,
) -> AsyncIterator[np.ndarray]:
    """Each block's PCM (mono int16 at the job's rate) in order as soon as it is made, then
    its exact pause as zeros (utils/audio/timeline.py pause_samples): the timeline the combine
    encodes outside MP3. Blocks of MP3 jobs, which keep no PCM, are decoded from their frames.
    Ends early, where the audio does, if the job fails; `give_up_s` bounds the wait for each
    block."""
    fmt = OutputFormat.parse(job.output_format)
    async with aclosing(_completed_blocks(client, job, give_up_s, hold)) as blocks:
        async for block in blocks:
            yield await run_in_threadpool(_block_samples, storage, job.id, block, fmt)
            pause = pause_samples(block.spec.wait_after_ms, fmt.sample_rate)
            if pause:
                yield np.zeros(pause, dtype=np.int16)


def _block_samples(storage: Storage, job_id: str, block: BlockRecord, fmt: OutputFormat):
    if fmt.is_mp3:
        return samples_of_mp3_block(_read(storage, block.storage_key), block.n_samples, fmt)
    return np.frombuffer(_read(storage, block_pcm_key(job_id, block.index)), dtype="<i2")


async def encode_stream(
    pieces: AsyncIterator[np.ndarray], encoder: StreamEncoder
) -> AsyncIterator[bytes]:
    """`pieces` encoded progressively, off the event loop; the bytes as they are ready, and
    the encoder's tail once the pieces end (a valid ending even if the job failed midway)."""
    try:
        async with aclosing(pieces):
            async for samples in pieces:
                data = await run_in_threadpool(encoder.encode, samples)
                if data:
                    yield data
        tail = await run_in_threadpool(encoder.finish)
        if tail:
            yield tail
    finally:
        encoder.close()  # a no-op once finished; frees FFmpeg's state if the reader left


# The blocks of a job as each is completed, for other streams of the API (api/realtime/).
completed_blocks = _completed_blocks
