"""A worker killed while it makes a sentence of an input stream: the sentence is made again
elsewhere and the stream goes on, every sentence spoken once, in order."""

from __future__ import annotations

import json
import time

import pytest
import redis

from tests.workers.test_faults import HOUSEKEEPING_ENV, worker_in_call

pytestmark = pytest.mark.pipeline

SENTENCES = ["First, a sentence held up. ", "Second, another one. ", "Third and last. "]


def test_a_worker_killed_mid_sentence_loses_nothing(isolated_service, simulator, redis_server):
    simulator.knobs(latency_ms=2000)  # each sentence keeps its worker busy for a while
    app, alice = isolated_service(
        db=9, env=HOUSEKEEPING_ENV, workers=2, concurrency=4, pool="threads", beat=True
    )
    store = redis.Redis(port=redis_server.port, db=9, decode_responses=True)
    url = "/v1/text-to-speech/limited%2Falloy/stream-input?output_format=pcm_24000"
    with app.websocket_connect(url, headers={"xi-api-key": alice["Authorization"][7:]}) as ws:
        ws.send_text(json.dumps({"text": " "}))
        for sentence in SENTENCES:
            ws.send_text(json.dumps({"text": sentence}))
        ws.send_text(json.dumps({"text": ""}))
        victim = worker_in_call(isolated_service.workers, store, simulator, "alice")
        victim.kill()  # mid-call: its sentence is cut off
        killed_at = time.monotonic()
        messages = []
        while not messages or not messages[-1].get("isFinal"):
            messages.append(json.loads(ws.receive_text()))
        assert ws.receive() == {"type": "websocket.close", "code": 1000, "reason": ""}
    assert time.monotonic() - killed_at < 120
    spoken = "".join("".join(m["alignment"]["chars"]) for m in messages if m.get("alignment"))
    assert spoken.replace(" ", "") == "".join(SENTENCES).replace(" ", "")
    assert simulator.stats()["tts_requests"] > len(SENTENCES)  # the cut-off one made again
