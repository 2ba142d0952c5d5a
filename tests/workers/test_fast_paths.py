"""Progressive streaming and the content-hash cache produce the same audio as the slow path."""

from __future__ import annotations

import pytest

from tests.audio_helpers import decode
from tests.helpers import wait_for_job

pytestmark = pytest.mark.pipeline

RACHEL = "21m00Tcm4TlvDq8ikWAM"


def submit(app, headers, blocks):
    response = app.post("/tts", headers=headers, json={"blocks": blocks})
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def test_the_stream_is_the_final_file_sent_while_the_job_runs(app, alice, worker):
    blocks = [
        {
            "text": f"Streaming block number {i}, spoken while the rest are made.",
            "wait_after_ms": pause,
        }
        for i, pause in enumerate([0, 250, 600, 0])
    ]
    job_id = submit(app, alice, blocks)
    chunks = []
    with app.stream("GET", f"/result/{job_id}/audio?stream=true", headers=alice) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "audio/mpeg"
        status_at_first_chunk = None
        for chunk in response.iter_bytes():
            if status_at_first_chunk is None:
                status_at_first_chunk = app.get(f"/status/{job_id}", headers=alice).json()
            chunks.append(chunk)
    assert wait_for_job(app, job_id, alice)["status"] == "completed"
    streamed = b"".join(chunks)
    final = app.get(f"/result/{job_id}/audio", headers=alice).content
    assert streamed == final  # same bytes: same order, same pauses, same duration
    assert decode(streamed, 24000).size > 0
    # once completed, stream=true simply serves the file
    assert app.get(f"/result/{job_id}/audio?stream=true", headers=alice).content == final


def test_the_stream_ends_where_a_failed_job_stops(app, alice, simulator, worker):
    simulator.fault(401, times=5, path="/v1/text-to-speech")
    simulator.knobs(latency_ms=2500)  # refused only after block 0 is ready
    blocks = [
        {"text": "This block is fine and streams.", "wait_after_ms": 300},
        {"text": "This one is refused.", "provider": "elevenlabs", "voice": RACHEL},
    ]
    job_id = submit(app, alice, blocks)
    with app.stream("GET", f"/result/{job_id}/audio?stream=true", headers=alice) as response:
        streamed = b"".join(response.iter_bytes())
    assert wait_for_job(app, job_id, alice)["status"] == "failed"
    block0 = app.get(f"/result/{job_id}/block/0/audio", headers=alice).content
    assert streamed.startswith(block0) and len(streamed) > len(block0)  # block 0 and its pause
    assert app.get(f"/result/{job_id}/audio?stream=true", headers=alice).status_code == 409


def test_a_repeated_job_is_served_from_the_cache_without_provider_calls(
    app, alice, simulator, worker
):
    blocks = [
        {
            "text": "Cache me if you can.",
            "provider": "openai",
            "voice": "nova",
            "wait_after_ms": 200,
        },
        {"text": "And me, in another voice.", "provider": "elevenlabs", "voice": RACHEL},
        {"text": "And the local voice too."},
    ]
    first = wait_for_job(app, submit(app, alice, blocks), alice)
    calls = simulator.stats()["tts_requests"]
    assert calls == 2 and not any(b["cached"] for b in first["blocks"])

    second_id = submit(app, alice, blocks)
    second = wait_for_job(app, second_id, alice)
    assert second["status"] == "completed"
    assert all(b["cached"] for b in second["blocks"])
    assert [b["attempts"] for b in second["blocks"]] == [0, 0, 0]
    assert simulator.stats()["tts_requests"] == calls  # no provider call at all
    audio = [
        app.get(f"/result/{job_id}/audio", headers=alice).content
        for job_id in (first["job_id"], second_id)
    ]
    assert audio[0] == audio[1]

    # anything that changes the audio is a different entry
    changed = [{**blocks[0], "speed": 1.25}]
    third = wait_for_job(app, submit(app, alice, changed), alice)
    assert not third["blocks"][0]["cached"]
    assert simulator.stats()["tts_requests"] == calls + 1
