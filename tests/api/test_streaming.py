"""Progressive streams wait on the job's notifications, not by polling, and are capped."""

from __future__ import annotations

import asyncio
import time
import uuid

import numpy as np
import pytest
import redis.asyncio as aioredis

from api.streaming import OpenStreams, stream_blocks
from utils.audio.formats import OutputFormat
from utils.audio.mp3_frames import bare_frames
from utils.audio.pcm import encode_mp3
from utils.errors import RateLimited
from utils.jobs.models import BlockSpec
from utils.jobs.store import JobStore
from utils.storage.keys import block_audio_key
from utils.storage.local import LocalStorage

FMT = OutputFormat.parse("mp3_24000_64")


def hgetall_calls(client) -> int:
    return int(client.info("commandstats").get("cmdstat_hgetall", {}).get("calls", 0))


def test_a_stream_waits_on_notifications_and_follows_the_job(redis_db, tmp_path):
    jobs, storage = JobStore(redis_db, 3600), LocalStorage(tmp_path)
    job_id = str(uuid.uuid4())
    specs = [BlockSpec("first", "piper", "v"), BlockSpec("second", "piper", "v")]
    jobs.create(job_id, "alice", FMT.name, specs)
    port = redis_db.connection_pool.connection_kwargs["port"]

    async def scenario():
        client = aioredis.Redis(port=port, db=1, decode_responses=True)
        chunks, stream = [], stream_blocks(client, storage, jobs.get(job_id), give_up_s=60)

        async def consume():
            async for chunk in stream:
                chunks.append((time.monotonic(), chunk))

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0.3)
        reads_before = hgetall_calls(redis_db)
        await asyncio.sleep(2.0)  # nothing happens: a poller would read 100 times
        idle_reads = hgetall_calls(redis_db) - reads_before

        tone = (6000 * np.sin(np.arange(12000) / 10)).astype(np.int16)
        frames = bare_frames(encode_mp3(tone, FMT), FMT)
        storage.put_bytes(block_audio_key(job_id, 0), frames.data)
        finished_at = time.monotonic()
        jobs.finish_block(
            jobs.get(job_id),
            0,
            {
                "storage_key": block_audio_key(job_id, 0),
                "n_samples": tone.size,
                "n_frames": frames.n_frames,
            },
        )
        await asyncio.sleep(0.5)
        first_after = chunks[0][0] - finished_at if chunks else None
        failed_at = time.monotonic()
        jobs.fail_block(job_id, 1, "refused")
        await asyncio.wait_for(consumer, 2)
        await client.aclose()
        return idle_reads, first_after, time.monotonic() - failed_at, chunks, frames

    idle_reads, first_after, ended_after, chunks, frames = asyncio.run(scenario())
    assert idle_reads <= 2, idle_reads
    assert first_after is not None and first_after < 0.3  # woken by the notification
    assert chunks[0][1] == frames.data
    assert ended_after < 1.0  # the failure ends the stream at once


def test_open_streams_are_capped_per_user_and_freed_on_release(redis_db):
    streams = OpenStreams(redis_db, limit=2)
    holds = [streams.acquire("alice"), streams.acquire("alice")]
    with pytest.raises(RateLimited) as refused:
        streams.acquire("alice")
    assert refused.value.retry_after_s > 0 and "at most 2 audio streams" in str(refused.value)
    streams.acquire("bob")  # another user's count is their own

    port = redis_db.connection_pool.connection_kwargs["port"]

    async def release():
        client = aioredis.Redis(port=port, db=1, decode_responses=True)
        await holds[0].release(client)
        await client.aclose()

    asyncio.run(release())
    streams.acquire("alice")


def test_a_stream_past_the_cap_is_refused_with_429(app, alice, service_redis, users):
    from tests.helpers import create_job_behind_the_api

    job_id = create_job_behind_the_api(service_redis, "alice", [BlockSpec("x", "piper", "v")])
    open_streams = app.app.state.open_streams
    for _ in range(open_streams.limit):
        open_streams.acquire("alice")
    response = app.get(f"/result/{job_id}/audio?stream=true", headers=alice)
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 0
