"""multi-stream-input's contexts, an interruption among them, and clients that read slowly or
not at all (api/realtime/), against a real uvicorn and a real worker."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets

from tests.api.realtime_helpers import RawClient, token_for, ws_url
from tests.helpers import served
from utils.clock import epoch_of
from utils.names import block_key, open_streams_key, user_jobs_key

pytestmark = pytest.mark.pipeline

VOICE = "en_US-joe-medium"
APPLES = [f"Apple sentence number {n} is spoken by the first context. " for n in range(12)]
BLUES = ["Blue is the second context speaking now. ", "It says two sentences. "]


@pytest.fixture
def rt_url(service_redis, users, worker):
    from api.main import create_app

    with served(create_app()) as url:
        yield url


def blocks_of(redis_client, user: str = "alice") -> list[dict]:
    """Every block of the user's jobs: its text, status and when it started (if it did)."""
    out = []
    for job_id in redis_client.zrange(user_jobs_key(user), 0, -1):
        for index in range(8):
            block = redis_client.hgetall(block_key(job_id, index))
            if not block:
                break
            out.append(block | {"job": job_id})
    return out


def test_close_context_stops_its_audio_and_starts_no_provider_call(rt_url, service_redis):
    token = token_for(rt_url)

    async def run():
        url = ws_url(rt_url, VOICE, "multi-stream-input", output_format="pcm_16000")
        seen = []  # (context, kind)
        async with websockets.connect(url, additional_headers={"xi-api-key": token}) as ws:
            await ws.send(json.dumps({"text": " ", "context_id": "a"}))
            await ws.send(json.dumps({"text": " ", "context_id": "b"}))
            for sentence in APPLES:
                await ws.send(json.dumps({"text": sentence, "context_id": "a"}))
            while True:  # the first context's first audio: interrupt it
                m = json.loads(await ws.recv())
                seen.append((m.get("contextId"), "audio" if m.get("audio") else m))
                if m.get("contextId") == "a" and m.get("audio"):
                    break
            await ws.send(json.dumps({"context_id": "a", "close_context": True}))
            for sentence in BLUES:
                await ws.send(json.dumps({"text": sentence, "context_id": "b"}))
            await ws.send(json.dumps({"text": "", "context_id": "b", "flush": True}))
            closed_at = None
            b_chars = ""
            while "two sentences." not in b_chars:
                m = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if m.get("isFinal") and m.get("contextId") == "a":
                    closed_at = time.time()
                seen.append((m.get("contextId"), "final" if m.get("isFinal") else "audio"))
                if m.get("contextId") == "b" and m.get("alignment"):
                    b_chars += "".join(m["alignment"]["chars"])
            await ws.send(json.dumps({"close_socket": True}))
            rest = [json.loads(raw) async for raw in ws]
            return seen, closed_at, rest, ws.close_code

    seen, closed_at, rest, code = asyncio.run(run())
    assert closed_at is not None and code == 1000
    assert rest == [{"isFinal": True, "contextId": "b"}]
    final_a = seen.index(("a", "final"))
    assert ("a", "audio") not in seen[final_a:]  # nothing of it after its close was answered
    assert ("b", "audio") in seen[final_a:]
    apples = [b for b in blocks_of(service_redis) if b["text"].startswith("Apple")]
    started = [b for b in apples if b.get("started_at")]
    # only what was already under way: the first and the few made ahead of it
    assert len(started) <= 1 + 3 + 1, [b["text"] for b in started]
    assert len(apples) < len(APPLES)  # the rest never even submitted
    assert all(epoch_of(b["started_at"]) <= closed_at for b in started)
    time.sleep(1.5)  # and nothing starts later either (a started one may still end, skipped)
    starts = {(b["job"], b["text"], b["started_at"]) for b in started}
    assert {(b["job"], b["text"], b["started_at"]) for b in blocks_of(service_redis)
            if b["text"].startswith("Apple") and b.get("started_at")} == starts  # fmt: skip
    assert service_redis.zcard(open_streams_key("alice")) == 0  # its stream place given back


def test_a_client_that_stops_reading_stops_the_making_and_is_buffered_within_bounds(
    rt_url, service_redis
):
    token = token_for(rt_url)
    sentences = [f"Sentence number {n} of a long reply that nobody reads yet. " for n in range(24)]
    client = RawClient(ws_url(rt_url, VOICE, output_format="pcm_44100"), {"xi-api-key": token})
    client.send({"text": " "})
    for sentence in sentences:
        client.send({"text": sentence})
    client.send({"text": ""})
    counts = []
    for _ in range(3):  # not reading
        time.sleep(2.5)
        counts.append(service_redis.zcard(user_jobs_key("alice")))
    messages, code = client.read_all()
    # the making waited for the reader: what is made is the outbox, the pieces made ahead and
    # what the kernel's socket buffers hold (on loopback, some MB: about ten sentences here)
    assert counts[1] == counts[2] < len(sentences) * 2 // 3, counts
    assert code == 1000 and messages[-1] == {"isFinal": True}
    spoken = "".join("".join(m["alignment"]["chars"]) for m in messages if m.get("alignment"))
    assert spoken.replace(" ", "") == "".join(sentences).replace(" ", "")
    assert service_redis.zcard(user_jobs_key("alice")) == len(sentences)


def test_a_client_that_never_reads_is_closed_and_its_work_cancelled(
    rt_url, service_redis, monkeypatch
):
    from api.realtime import session

    monkeypatch.setattr(session, "SEND_TIMEOUT_S", 2.0)
    token = token_for(rt_url)
    sentences = [f"Sentence number {n} of a reply that is never read. " for n in range(24)]
    client = RawClient(ws_url(rt_url, VOICE, output_format="pcm_44100"), {"xi-api-key": token})
    client.send({"text": " "})
    for sentence in sentences:
        client.send({"text": sentence})
    wait_until(lambda: service_redis.zcard(open_streams_key("alice")) == 1)  # it started
    wait_until(lambda: service_redis.zcard(open_streams_key("alice")) == 0, timeout_s=30)
    client.sock.close()  # the server let go first: its stream place is given back
    time.sleep(1.5)
    made = service_redis.zcard(user_jobs_key("alice"))
    assert 0 < made < len(sentences) * 2 // 3
    started = [b for b in blocks_of(service_redis) if b.get("started_at")]
    assert len(started) <= made
    time.sleep(1.5)  # nothing more is made or started
    assert service_redis.zcard(user_jobs_key("alice")) == made
    assert len([b for b in blocks_of(service_redis) if b.get("started_at")]) == len(started)


def wait_until(predicate, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)
