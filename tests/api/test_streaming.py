"""Progressive streams wait on the job's notifications, not by polling, and are capped."""

from __future__ import annotations

import asyncio
import io
import time
import uuid

import av
import numpy as np
import pytest
import redis.asyncio as aioredis

from api.streaming import OpenStreams, block_pcm_in_order, stream_blocks
from utils.audio.formats import OutputFormat
from utils.audio.mp3_frames import bare_frames
from utils.audio.pcm import encode_mp3
from utils.errors import RateLimited
from utils.jobs.models import BlockSpec
from utils.jobs.store import JobStore
from utils.storage.keys import block_audio_key, block_keys
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
    assert refused.value.retry_after_s > 0 and "at most 2 streams" in str(refused.value)
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


def _collect(redis_db, agen_factory) -> list:
    port = redis_db.connection_pool.connection_kwargs["port"]

    async def scenario():
        client = aioredis.Redis(port=port, db=1, decode_responses=True)
        try:
            return [piece async for piece in agen_factory(client)]
        finally:
            await client.aclose()

    return asyncio.run(scenario())


def _finished_job(jobs, storage, fmt: OutputFormat, tones: list[np.ndarray], pauses: list[int]):
    """A job of `fmt` whose blocks are stored as the workers store them."""
    from workers.block_audio import _encoded

    job_id = str(uuid.uuid4())
    specs = [BlockSpec(f"b{i}", "piper", "v", pause) for i, pause in enumerate(pauses)]
    jobs.create(job_id, "alice", fmt.name, specs)
    for index, samples in enumerate(tones):
        key, pcm_key = block_keys(job_id, index, fmt)
        files, n_frames = _encoded(fmt, samples, key, pcm_key)
        for file_key, data in files:
            storage.put_bytes(file_key, data)
        result = {"storage_key": key, "n_samples": samples.size, "n_frames": n_frames}
        jobs.finish_block(jobs.get(job_id), index, result)
    return jobs.get(job_id)


@pytest.mark.parametrize("name", ["mp3_24000_64", "wav_24000", "opus_24000_32"])
def test_block_pcm_in_order_is_each_block_then_its_exact_pause(redis_db, tmp_path, name):
    fmt = OutputFormat.parse(name)
    jobs, storage = JobStore(redis_db, 3600), LocalStorage(tmp_path)
    tones = [(6000 * np.sin(np.arange(n) / 7)).astype(np.int16) for n in (7000, 5000)]
    job = _finished_job(jobs, storage, fmt, tones, [250, 0])
    pieces = _collect(redis_db, lambda c: block_pcm_in_order(c, storage, job, give_up_s=5))
    assert [p.size for p in pieces] == [7000, 6000, 5000]  # 250 ms at 24 kHz, exactly
    assert not pieces[1].any()
    if fmt.is_mp3:  # decoded from the block's frames: lossy, but in place (no lead-in)
        assert np.corrcoef(pieces[0].astype(float), tones[0].astype(float))[0, 1] > 0.95
    else:
        assert np.array_equal(pieces[0], tones[0]) and np.array_equal(pieces[2], tones[1])


@pytest.mark.parametrize("name", ["flac_24000", "aac_24000_64", "pcm_24000"])
def test_a_stream_of_another_format_is_one_encoded_stream(redis_db, tmp_path, name):
    fmt = OutputFormat.parse(name)
    jobs, storage = JobStore(redis_db, 3600), LocalStorage(tmp_path)
    tones = [(6000 * np.sin(np.arange(n) / 7)).astype(np.int16) for n in (7000, 5000)]
    job = _finished_job(jobs, storage, fmt, tones, [250, 0])
    data = b"".join(_collect(redis_db, lambda c: stream_blocks(c, storage, job, give_up_s=5)))
    if fmt.family_name == "pcm":
        assert data == b"".join(
            [tones[0].tobytes(), bytes(12000), tones[1].tobytes()]
        )  # the timeline itself
        return
    container = av.open(io.BytesIO(data))
    assert container.format.name.split(",")[0] == {"flac": "flac", "aac": "aac"}[fmt.family_name]
    decoded = sum(frame.samples for frame in container.decode(audio=0))
    assert 0 <= decoded - 18000 <= 2 * fmt.samples_per_frame  # ADTS keeps AAC's priming
