"""A worker killed while it makes a sentence of a Wyoming stream: the sentence is made again
by another worker and the client still hears every sentence, in order, with no gap of silence
where the lost one was."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
import redis
from wyoming.audio import AudioChunk
from wyoming.client import AsyncTcpClient
from wyoming.tts import SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeVoice

from simulator.audio import speech_seconds
from tests.audio_helpers import rms
from tests.workers.test_faults import HOUSEKEEPING_ENV, worker_in_call
from tests.wyoming_process import WyomingProcess

pytestmark = pytest.mark.pipeline

SENTENCES = ["First, a sentence held up. ", "Second, another one. ", "Third and last. "]
RATE = 22050


async def speak_while_a_worker_dies(port: int, kill) -> tuple[list[AudioChunk], float]:
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(SynthesizeStart(voice=SynthesizeVoice("limited/alloy")).event())
        for sentence in SENTENCES:
            await client.write_event(SynthesizeChunk(sentence).event())
        await client.write_event(SynthesizeStop().event())
        killed_at = await asyncio.to_thread(kill)
        chunks = []
        while (event := await client.read_event()) is not None:
            assert event.type != "error", event.data
            if AudioChunk.is_type(event.type):
                chunks.append(AudioChunk.from_event(event))
            if event.type == "synthesize-stopped":
                break
        return chunks, killed_at


def test_a_worker_killed_mid_sentence_loses_nothing(
    isolated_service, simulator, redis_server, session_dir
):
    simulator.knobs(latency_ms=3000)  # each sentence keeps its worker busy for a while
    isolated_service(
        db=10, env=HOUSEKEEPING_ENV, workers=2, concurrency=4, pool="threads", beat=True
    )
    url = f"redis://127.0.0.1:{redis_server.port}/10"
    store = redis.Redis.from_url(url, decode_responses=True)
    server = WyomingProcess(session_dir / "wyoming-faults.log", {"REDIS_URL": url}).start()
    before = simulator.stats()["tts_requests"]

    def kill() -> float:
        # a sentence whose provider call is under way: its maker is killed mid-call
        worker_in_call(isolated_service.workers, store, simulator, "wyoming").kill()
        return time.monotonic()

    try:
        chunks, killed_at = asyncio.run(
            asyncio.wait_for(speak_while_a_worker_dies(server.port, kill), 180)
        )
        assert server.alive(), server.log()
    finally:
        server.stop()
    assert time.monotonic() - killed_at < 120
    assert {(c.rate, c.width, c.channels) for c in chunks} == {(RATE, 2, 1)}
    samples = np.frombuffer(b"".join(c.audio for c in chunks), dtype="<i2")
    # the simulator speaks a tone as long as each sentence takes to read: one sentence lost (or
    # spoken twice) moves the total by more than a second
    expected = sum(speech_seconds(s.strip()) for s in SENTENCES)
    assert abs(samples.size / RATE - expected) < 0.5, (samples.size / RATE, expected)
    assert rms(samples) > 3000  # the tone, not silence standing in for the lost sentence
    assert simulator.stats()["tts_requests"] - before > len(SENTENCES)  # the cut-off one again
