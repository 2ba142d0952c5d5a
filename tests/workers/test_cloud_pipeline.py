"""Jobs mixing Piper with the cloud providers (through the simulator), via a real worker."""

from __future__ import annotations

import time

import numpy as np
import pytest

from simulator.audio import voice_frequency
from tests.audio_helpers import decode
from tests.helpers import wait_for_job
from utils.audio.mp3_frames import iter_frames

pytestmark = pytest.mark.pipeline

RACHEL, DOMI = "21m00Tcm4TlvDq8ikWAM", "AZnzlk1XvdvUeBnXmlld"


def submit(app, headers, blocks, **extra):
    response = app.post("/tts", headers=headers, json={"blocks": blocks, **extra})
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def peak_hz(samples, rate):
    spectrum = np.abs(np.fft.rfft(samples.astype(float) * np.hanning(samples.size)))
    return np.argmax(spectrum) * rate / samples.size


def max_step(samples):
    return int(np.abs(np.diff(samples.astype(np.int32))).max())


def test_a_job_mixing_providers_is_one_mp3_at_one_rate_in_order(app, alice, simulator, worker):
    blocks = [
        {"text": "Spoken by the local voice.", "wait_after_ms": 200},
        {
            "text": "Spoken through the first cloud provider.",
            "provider": "elevenlabs",
            "voice": RACHEL,
            "wait_after_ms": 200,
        },
        {
            "text": "Spoken through the second cloud provider.",
            "provider": "openai",
            "voice": "nova",
            "wait_after_ms": 200,
        },
        {"text": "And a compatible server.", "provider": "local-llm", "voice": "am_adam"},
    ]
    job_id = submit(app, alice, blocks, output_format="mp3_44100_128")
    status = wait_for_job(app, job_id, alice)
    assert status["status"] == "completed", status

    audio = app.get(f"/result/{job_id}/audio", headers=alice).content
    assert {(h.sample_rate, h.bitrate_kbps) for _, h in iter_frames(audio)} == {(44100, 128)}
    rate = 44100
    final = decode(audio, rate)
    result = app.get(f"/result/{job_id}", headers=alice).json()
    regions = [
        final[round(b["start_ms"] * rate / 1000) : round(b["end_ms"] * rate / 1000)]
        for b in result["blocks"]
    ]
    # each cloud block is its voice's tone, where /result says it is: so the order is right
    for region, voice in zip(regions[1:], (RACHEL, "nova", "am_adam"), strict=True):
        inner = region[rate // 20 : -rate // 20]
        assert abs(peak_hz(inner, rate) - voice_frequency(voice)) < 5
    # no clicks: the steps at the block edges are no larger than inside the blocks
    for block in result["blocks"][1:]:
        for edge_ms in (block["start_ms"], block["end_ms"]):
            edge = round(edge_ms * rate / 1000)
            inner = regions[block["index"]][rate // 20 : -rate // 20]
            assert max_step(final[edge - 441 : edge + 441]) <= 1.2 * max_step(inner)


def test_elevenlabs_blocks_hear_their_neighbours_in_the_same_voice(app, alice, simulator, worker):
    texts = ["First line.", "Second line.", "Third line, other voice."]
    voices = [RACHEL, RACHEL, DOMI]
    blocks = [
        {"text": t, "provider": "elevenlabs", "voice": v}
        for t, v in zip(texts, voices, strict=True)
    ]
    job_id = submit(app, alice, blocks)
    assert wait_for_job(app, job_id, alice)["status"] == "completed"
    sent = {r["text"]: r for r in simulator.stats()["recent"] if r["api"] == "elevenlabs"}
    assert (sent["First line."]["previous_text"], sent["First line."]["next_text"]) == (
        None,
        "Second line.",
    )
    assert (sent["Second line."]["previous_text"], sent["Second line."]["next_text"]) == (
        "First line.",
        None,
    )
    assert sent["Third line, other voice."]["previous_text"] is None


def test_injected_429_and_500_are_retried_and_the_job_completes(app, alice, simulator, worker):
    simulator.fault(429, times=1, path="/v1/audio/speech", retry_after_s=0.5)
    simulator.fault(500, times=1, path="/v1/audio/speech")
    job_id = submit(app, alice, [{"text": "Retry me.", "provider": "openai", "voice": "alloy"}])
    status = wait_for_job(app, job_id, alice, timeout_s=60)
    assert status["status"] == "completed", status
    assert status["blocks"][0]["attempts"] == 3
    assert simulator.stats()["faults_left"] == []


def test_an_injected_401_fails_the_job_at_once_naming_provider_and_status(
    app, alice, simulator, worker
):
    simulator.fault(401, times=10, path="/v1/text-to-speech", message="invalid api key")
    started = time.monotonic()
    job_id = submit(
        app,
        alice,
        [
            {"text": "Fine.", "provider": "piper"},
            {"text": "Refused.", "provider": "elevenlabs", "voice": RACHEL},
        ],
    )
    status = wait_for_job(app, job_id, alice, timeout_s=30)
    assert time.monotonic() - started < 10
    assert status["status"] == "failed"
    assert status["error"] == "block 1: elevenlabs: HTTP 401: invalid api key"
    assert status["blocks"][1]["attempts"] == 1
    assert simulator.stats()["tts_requests"] == 1  # not retried


def test_after_the_last_retry_the_job_fails_with_the_blocks_error(app, alice, simulator, worker):
    simulator.fault(503, times=100, path="/v1/audio/speech", message="upstream overloaded")
    job_id = submit(
        app,
        alice,
        [
            {"text": "Never.", "provider": "openai", "voice": "alloy"},
            {"text": "Fine.", "provider": "piper"},
        ],
    )
    status = wait_for_job(app, job_id, alice, timeout_s=60)
    assert status["status"] == "failed"
    assert status["error"] == (
        "block 0: openai: HTTP 503: upstream overloaded (gave up after 4 attempts)"
    )
    assert simulator.stats()["tts_requests"] == 4  # the first try and PROVIDER_MAX_RETRIES=3
    assert app.get(f"/result/{job_id}", headers=alice).status_code == 409  # no combine ran


def test_a_volcengine_block_rides_out_a_busy_backend_and_lands_in_its_voice(
    app, alice, simulator, worker
):
    # HTTP 200 with code 3005 ("backend busy"): the vendor's code, not the status, says retry
    simulator.fault(200, times=1, path="/api/v1/tts", code=3005, message="server busy")
    voice = "BV700_streaming"
    blocks = [
        {"text": "Spoken by the local voice.", "wait_after_ms": 200},
        {"text": "Spoken through Volcano Engine.", "provider": "volcengine", "voice": voice},
    ]
    job_id = submit(app, alice, blocks)
    status = wait_for_job(app, job_id, alice, timeout_s=60)
    assert status["status"] == "completed", status
    assert status["blocks"][1]["attempts"] == 2

    rate = 24000
    final = decode(app.get(f"/result/{job_id}/audio", headers=alice).content, rate)
    block = app.get(f"/result/{job_id}", headers=alice).json()["blocks"][1]
    region = final[round(block["start_ms"] * rate / 1000) : round(block["end_ms"] * rate / 1000)]
    assert abs(peak_hz(region[rate // 20 : -rate // 20], rate) - voice_frequency(voice)) < 5
    sent = [r for r in simulator.stats()["recent"] if r["api"] == "volcengine"]
    assert len(sent) == 2 and sent[0]["reqid"] != sent[1]["reqid"]  # a retry is a new request


def test_a_voice_volcengine_does_not_know_fails_the_job_at_once(app, alice, simulator, worker):
    simulator.fault(200, times=10, path="/api/v1/tts", code=3050, message="voice_type not found")
    job_id = submit(app, alice, [{"text": "Nobody.", "provider": "volcengine"}])
    status = wait_for_job(app, job_id, alice, timeout_s=30)
    assert status["status"] == "failed"
    assert status["error"] == "block 0: volcengine: code 3050: voice_type not found"
    assert status["blocks"][0]["attempts"] == 1
