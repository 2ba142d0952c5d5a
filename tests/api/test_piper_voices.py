"""The Piper voice catalogue through the API: listed with a language filter, checked at submit
(close matches, speakers), and spoken by a real worker that fetches voices on first use."""

from __future__ import annotations

import time

import pytest

from tests.audio_helpers import decode, rms
from tests.helpers import bearer, wait_for_job
from utils.embedded_redis import free_port

GERMAN, FRENCH, MULTI = "de_DE-test-medium", "fr_FR-test-low", "en_GB-test_multi-medium"


@pytest.fixture
def catalogue_app(service_redis, users, voice_mirror, tmp_path):
    """The API with the local catalogue mirror as PIPER_VOICES_URL."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from config import Settings

    settings = Settings(PIPER_VOICES_URL=voice_mirror.url, PIPER_VOICE_DIR=tmp_path / "voices")
    with TestClient(create_app(settings)) as client:
        yield client, bearer(client, "alice")


def test_the_listing_has_installed_and_catalogue_voices(catalogue_app):
    client, alice = catalogue_app
    voices = {v["id"]: v for v in client.get("/tts/voices/piper", headers=alice).json()}
    assert list(voices)[0] == "en_US-joe-medium"  # the default first
    assert voices["en_US-joe-medium"]["installed"] is True
    assert voices[GERMAN] == {
        "id": GERMAN,
        "name": "Test",
        "language": "de_DE",
        "description": None,
        "language_name": "German",
        "quality": "medium",
        "speakers": [],
        "installed": False,
        "gender": None,
    }
    assert voices[MULTI]["speakers"] == ["p225", "p226", "p227"]


@pytest.mark.parametrize(
    "language, expected",
    [("de", [GERMAN]), ("fr_FR", [FRENCH]), ("en", ["en_US-joe-medium", MULTI]), ("xx", [])],
)
def test_the_listing_filters_by_language_code_prefix(catalogue_app, language, expected):
    client, alice = catalogue_app
    response = client.get(f"/tts/voices/piper?language={language}", headers=alice)
    assert [v["id"] for v in response.json()] == expected


def _refusal(client, alice, block: dict) -> dict[str, str]:
    response = client.post("/tts", headers=alice, json={"blocks": [block]})
    assert response.status_code == 422, response.text
    return {e["field"]: e["msg"] for e in response.json()["detail"]}


def test_an_unknown_voice_is_refused_with_close_matches_first(catalogue_app):
    client, alice = catalogue_app
    errors = _refusal(client, alice, {"text": "Hallo.", "voice": "de_DE-test-mdium"})
    message = errors["blocks[0].voice"]
    assert f"'de_DE-test-mdium' for provider 'piper'; did you mean {GERMAN}, " in message
    assert message.index("did you mean") < message.index("allowed: en_US-joe-medium")


def test_speakers_are_checked_at_submit(catalogue_app):
    client, alice = catalogue_app
    errors = _refusal(client, alice, {"text": "Hallo.", "voice": GERMAN, "speaker": "p225"})
    assert "voice 'de_DE-test-medium' has a single speaker" in errors["blocks[0].speaker"]
    errors = _refusal(client, alice, {"text": "Hi.", "voice": MULTI, "speaker": "p999"})
    assert "unknown speaker 'p999'" in errors["blocks[0].speaker"]
    assert "speakers: p225, p226, p227 (or an index from 0 to 2)" in errors["blocks[0].speaker"]
    errors = _refusal(client, alice, {"text": "Hi.", "voice": MULTI, "speaker": 3})
    assert "unknown speaker '3'" in errors["blocks[0].speaker"]
    for speaker in ("p226", 2):
        block = {"text": "Hi.", "voice": MULTI, "speaker": speaker}
        response = client.post("/tts", headers=alice, json={"blocks": [block]})
        assert response.status_code == 202, response.text


def test_an_unreachable_catalogue_leaves_the_installed_voices_and_says_so(
    service_redis, users, tmp_path
):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from config import Settings

    url = f"http://127.0.0.1:{free_port()}"
    settings = Settings(PIPER_VOICES_URL=url, PIPER_VOICE_DIR=tmp_path / "voices")
    with TestClient(create_app(settings)) as client:
        alice = bearer(client, "alice")
        started = time.monotonic()
        errors = _refusal(client, alice, {"text": "Hallo.", "voice": GERMAN})
        assert time.monotonic() - started < 3
        message = errors["blocks[0].voice"]
        assert "allowed: en_US-joe-medium (" in message
        assert f"could not be read from {url}/voices.json" in message
        assert "only the installed voices are accepted now" in message


def test_a_job_in_three_languages_fetches_its_voices_and_plays(
    isolated_service, voice_mirror, tmp_path
):
    env = {"PIPER_VOICES_URL": voice_mirror.url, "PIPER_VOICE_DIR": str(tmp_path / "voices")}
    client, alice = isolated_service(db=7, env=env, concurrency=2)
    blocks = [
        {"text": "Good morning, everyone.", "wait_after_ms": 200},
        {"text": "Guten Morgen zusammen.", "voice": GERMAN, "wait_after_ms": 200},
        {"text": "Bonjour à tous.", "voice": FRENCH, "wait_after_ms": 200},
        {"text": "Good morning.", "voice": MULTI, "speaker": "p226"},
    ]
    response = client.post("/tts", headers=alice, json={"blocks": blocks})
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    status = wait_for_job(client, job_id, alice, timeout_s=60)
    assert status["status"] == "completed", status
    result = client.get(f"/result/{job_id}", headers=alice).json()
    assert [b["language"] for b in result["blocks"]] == ["en_US", "de_DE", "fr_FR", "en_GB"]
    for block in result["blocks"]:
        audio = client.get(f"/result/{job_id}/block/{block['index']}/audio", headers=alice)
        samples = decode(audio.content, 24000)
        assert samples.size > 0.4 * 24000 and rms(samples) > 300, block
    final = decode(client.get(f"/result/{job_id}/audio", headers=alice).content, 24000)
    assert abs(final.size / 24 - result["duration_ms"]) < 100
    for voice in (GERMAN, FRENCH, MULTI):  # each fetched once, the bundled one never
        assert voice_mirror.requests(voice_mirror.files(voice)["model"]) == 1
    assert voice_mirror.requests(voice_mirror.files("en_US-joe-medium")["model"]) == 0


def test_a_voice_the_worker_cannot_fetch_fails_its_block_at_once(
    isolated_service, voice_mirror, tmp_path
):
    dead = f"http://127.0.0.1:{free_port()}"
    # the API reads the catalogue (the voice is accepted); the worker cannot reach it
    api_env = {"PIPER_VOICES_URL": voice_mirror.url, "PIPER_VOICE_DIR": str(tmp_path / "api")}
    env = {"PIPER_VOICES_URL": dead, "PIPER_VOICE_DIR": str(tmp_path / "worker")}
    client, alice = isolated_service(db=8, env=env, api_env=api_env)
    started = time.monotonic()
    body = {"blocks": [{"text": "Hello."}, {"text": "Hallo.", "voice": GERMAN}]}
    job_id = client.post("/tts", headers=alice, json=body).json()["job_id"]
    status = wait_for_job(client, job_id, alice, timeout_s=30)
    assert time.monotonic() - started < 10
    assert status["status"] == "failed"
    failed = status["blocks"][1]
    assert failed["status"] == "failed" and failed["attempts"] == 1  # not retried
    assert f"unknown voice {GERMAN!r}: not installed" in failed["error"]
    assert f"{dead}/voices.json" in failed["error"]
