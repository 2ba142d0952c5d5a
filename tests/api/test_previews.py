"""Voice previews: the fixed sentence spoken once per provider and voice through the workers,
then served from storage without a provider call; an unknown provider or voice is a 404."""

from __future__ import annotations

import pytest

from tests.audio_helpers import decode

pytestmark = pytest.mark.pipeline


def test_a_preview_is_made_once_then_served_from_storage(app, alice, bob, worker, simulator):
    path = "/tts/voices/openai/shimmer/preview"
    first = app.get(path, headers=alice)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "audio/mpeg" and first.headers["X-Preview"] == "made"
    assert simulator.stats()["tts_requests"] == 1
    sent = simulator.stats()["recent"][-1]
    assert sent["voice"] == "shimmer"
    assert sent["text"] == app.app.state.settings.projects.preview_text
    samples = decode(first.content, 24000)  # previews are mp3_24000_64
    assert 0.5 < len(samples) / 24000 < 15  # a sentence, really spoken

    again = app.get(path, headers=bob)  # kept for everyone: the same voice sounds the same
    assert again.status_code == 200 and again.headers["X-Preview"] == "stored"
    assert again.content == first.content
    assert simulator.stats()["tts_requests"] == 1


def test_a_piper_voice_has_a_preview(app, alice, worker):
    response = app.get("/tts/voices/piper/en_US-joe-medium/preview", headers=alice)
    assert response.status_code == 200, response.text
    assert len(decode(response.content, 24000)) / 24000 > 1.0


def test_an_unknown_voice_or_provider_is_not_found(app, alice):
    missing = app.get("/tts/voices/openai/no-such-voice/preview", headers=alice)
    assert missing.status_code == 404
    assert "no voice 'no-such-voice'" in missing.json()["detail"]
    assert "GET /tts/voices/openai" in missing.json()["detail"]
    missing = app.get("/tts/voices/nowhere/alloy/preview", headers=alice)
    assert missing.status_code == 404 and "unknown provider 'nowhere'" in missing.json()["detail"]
