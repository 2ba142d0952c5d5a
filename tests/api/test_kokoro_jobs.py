"""Kokoro through the whole service: jobs, the speech endpoint, the voice and model listings
and the readiness probe, with a real worker whose Kokoro model comes from the tests' local Hub
(HF_ENDPOINT) and real audio decoded and measured."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio_helpers import decode, rms
from tests.helpers import samples, value, wait_for_job
from tests.hub_mirror import KOKORO

pytestmark = pytest.mark.pipeline

RATE = 24000  # the default output format, mp3_24000_64
TEXT = "The lighthouse keeper climbed the stairs. He carried a lamp and a small notebook."


@pytest.fixture
def hub(hub_mirror, worker):
    return hub_mirror


def test_a_job_of_kokoro_blocks_has_its_words_where_they_are_heard(app, alice, hub):
    blocks = [
        {"text": TEXT, "provider": "kokoro", "voice": "jf_alpha", "wait_after_ms": 700},
        {"text": "Then the light went on.", "provider": "kokoro", "voice": "jf_alpha(2)+jm_kumo"},
    ]
    response = app.post("/tts", headers=alice, json={"blocks": blocks})
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    status = wait_for_job(app, job_id, alice, timeout_s=180)
    assert status["status"] == "completed", status
    audio = decode(app.get(f"/result/{job_id}/audio", headers=alice).content, RATE)
    result = app.get(f"/result/{job_id}", headers=alice).json()
    assert abs(audio.size / RATE * 1000 - result["duration_ms"]) < 100
    assert rms(audio) > 800

    timings = app.get(f"/result/{job_id}/timings", headers=alice).json()
    assert {s["source"] for s in timings["sentences"]} == {"aligned"}
    assert len(timings["sentences"]) == 3
    words = timings["words"]
    assert [w["text"] for w in words[:3]] == ["The", "lighthouse", "keeper"]
    assert [w["block"] for w in words].count(1) == 5
    for word in words:
        first, last = (int(word[k] * RATE / 1000) for k in ("start_ms", "end_ms"))
        assert 0 <= first < last <= audio.size, word
        # each word is heard where its timing says
        assert rms(audio[first:last]) > 500, word
    pause = words[len(TEXT.split()) - 1]["end_ms"], words[len(TEXT.split())]["start_ms"]
    assert pause[1] - pause[0] >= 650  # the block's 700 ms pause sits between the words


def test_speech_endpoint_speaks_a_blend(app, alice, hub):
    response = app.post(
        "/v1/audio/speech",
        headers=alice,
        json={
            "model": "kokoro",
            "voice": "jf_nezumi(1)+jm_kumo(1)",
            "input": TEXT,
            "response_format": "pcm",
        },
    )
    assert response.status_code == 200, response.text
    samples = np.frombuffer(response.content, dtype="<i2")
    assert 3.0 < samples.size / 24000 < 12.0 and rms(samples) > 800


def test_an_unknown_voice_of_a_blend_is_refused_at_submit(app, alice, hub):
    blocks = [{"text": TEXT, "provider": "kokoro", "voice": "jf_alpha+af_nobody"}]
    response = app.post("/tts", headers=alice, json={"blocks": blocks})
    assert response.status_code == 422, response.text
    assert "af_nobody" in response.text and "jf_alpha" in response.text


def test_listings_show_the_model_and_its_voices(app, alice, hub):
    voices = app.get("/tts/voices/kokoro", headers=alice).json()
    assert {v["id"]: v["gender"] for v in voices}["jm_kumo"] == "male"
    providers = {p["name"]: p for p in app.get("/tts/providers", headers=alice).json()}
    engine = providers["kokoro"]["engine"]
    assert (engine["id"], engine["variant"], engine["voice_count"]) == (KOKORO, "int8", 5)
    assert providers["piper"]["engine"]["installed"] is True
    assert providers["openai"]["engine"] is None
    models = app.get("/tts/models", headers=alice).json()
    assert {m["provider"] for m in models["models"]} == {"piper", "kokoro"}
    assert models["available"] is None
    openai_models = {m["id"]: m for m in app.get("/v1/models", headers=alice).json()["data"]}
    assert openai_models["kokoro"]["engine"]["id"] == KOKORO


def test_available_models_are_asked_of_the_hub(app, alice, hub):
    found = app.get("/tts/models?available=true", headers=alice).json()["available"]
    assert found["reachable"] is True
    assert KOKORO in {m["id"] for m in found["models"]}
    assert "test-org/text-model" not in {m["id"] for m in found["models"]}


def test_ready_and_metrics_say_what_local_engines_run_on(app, hub):
    detail = app.get("/ready").json()["checks"]["workers"]["detail"]
    assert "piper on cpu" in detail, detail
    scraped = samples(app.get("/metrics").text)
    # the session worker: one local process, Piper loaded at its start
    assert value(scraped, "tts_local_engine_processes", provider="piper", device="cpu") >= 1


def test_ssml_names_a_blend_as_its_voice(app, alice, hub):
    ssml = (
        '<speak>First in the default voice. <voice name="kokoro/jf_alpha(2)+jm_kumo">'
        "Then a blend of two.</voice></speak>"
    )
    response = app.post("/tts", headers=alice, json={"blocks": [{"text": ssml}]})
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert wait_for_job(app, job_id, alice, timeout_s=180)["status"] == "completed"
    blocks = app.get(f"/result/{job_id}", headers=alice).json()["blocks"]
    # the default provider's voice, then the blend's (Kokoro: its first voice's language)
    assert [b["language"] for b in blocks] == ["en_US", "ja_JP"]


def test_fetch_voices_fetches_kokoro_ahead_of_time(hub_mirror, tmp_path):
    import os
    import subprocess
    import sys

    from config import PROJECT_ROOT

    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "cache"), "HF_ENDPOINT": hub_mirror.url}
    command = [sys.executable, "-m", "scripts.fetch_voices", "--kokoro", "kokoro", "jm_kumo"]
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "checksums verified" in done.stdout and "jm_kumo" in done.stdout
    assert hub_mirror.downloads(KOKORO, "onnx/model_quantized.onnx") == 1
    assert hub_mirror.downloads(KOKORO, "voices/jm_kumo.bin") == 1
    assert hub_mirror.downloads(KOKORO, "voices/jf_alpha.bin") == 0
    # offline, the cache alone serves a later run: nothing fetched again
    offline = {**env, "HF_HUB_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9"}
    again = subprocess.run(command, cwd=PROJECT_ROOT, env=offline, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    unknown = [*command[:-1], "af_nobody"]
    refused = subprocess.run(unknown, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert refused.returncode == 1 and "af_nobody" in refused.stderr
