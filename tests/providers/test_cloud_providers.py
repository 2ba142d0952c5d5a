"""The real SDKs over real HTTP against the simulator."""

import time

import numpy as np
import pytest

from config import ProviderConfig
from simulator.audio import speech_seconds, voice_frequency
from tests.conftest import PROVIDERS, TEST_API_KEY
from utils.audio.pcm import to_pcm
from utils.embedded_redis import free_port
from utils.errors import ProviderRejected, ProviderRetryable
from workers.providers import ProviderRegistry, SynthesisRequest

TEXT = "The quick brown fox jumps over the lazy dog."


@pytest.fixture
def registry(simulator):
    return ProviderRegistry({k: ProviderConfig(**v) for k, v in PROVIDERS.items()})


def peak_hz(samples, rate):
    spectrum = np.abs(np.fft.rfft(samples.astype(float)))
    return np.argmax(spectrum) * rate / samples.size


def test_elevenlabs_speaks_pcm_with_neighbouring_text(registry, simulator):
    provider = registry.get("elevenlabs")
    audio = provider.synthesize(
        SynthesisRequest(TEXT, provider.default_voice, previous_text="Before.", next_text="After.")
    )
    assert (audio.encoding, audio.sample_rate) == ("pcm_s16le", 24000)
    samples = to_pcm(audio, 24000)
    assert samples.size == int(speech_seconds(TEXT) * 24000)
    assert abs(peak_hz(samples, 24000) - voice_frequency(provider.default_voice)) < 3
    sent = simulator.stats()["recent"][-1]
    assert (sent["previous_text"], sent["next_text"], sent["text"]) == ("Before.", "After.", TEXT)
    assert sent["model_id"] == "eleven_multilingual_v2" and sent["output_format"] == "pcm_24000"


def test_elevenlabs_mp3_output_is_decoded_and_resampled(simulator):
    config = ProviderConfig(**{**PROVIDERS["elevenlabs"], "output_format": "mp3_44100_128"})
    provider = ProviderRegistry({"el": config}).get("el")
    audio = provider.synthesize(SynthesisRequest(TEXT, provider.default_voice))
    samples = to_pcm(audio, 24000)
    expected = speech_seconds(TEXT) * 24000
    assert expected <= samples.size <= expected + 0.1 * 24000  # plus MP3 delay and padding
    assert abs(peak_hz(samples, 24000) - voice_frequency(provider.default_voice)) < 3


def test_elevenlabs_voices_come_from_the_api_and_are_cached(registry, simulator):
    provider = registry.get("elevenlabs")
    first = provider.voices()
    assert [v.name for v in first] == ["Rachel", "Domi", "Antoni"]
    assert first[0].id == "21m00Tcm4TlvDq8ikWAM"
    assert provider.voices() == first
    assert simulator.stats()["voice_listings"] == 1


def test_openai_and_a_compatible_server_are_configuration_only(registry, simulator):
    openai = registry.get("openai")
    assert "alloy" in openai.voice_ids() and openai.default_voice == "alloy"
    audio = openai.synthesize(SynthesisRequest(TEXT, "nova", speed=1.5))
    assert (audio.encoding, audio.sample_rate) == ("pcm_s16le", 24000)
    assert to_pcm(audio, 24000).size == int(speech_seconds(TEXT, 1.5) * 24000)

    local = registry.get("local-llm")
    assert local.voice_ids() == ["af_bella", "am_adam"]
    local.synthesize(SynthesisRequest(TEXT, "am_adam"))
    sent = simulator.stats()["recent"][-1]
    assert (sent["model"], sent["voice"], sent["response_format"]) == ("kokoro", "am_adam", "pcm")


@pytest.mark.parametrize("name", ["elevenlabs", "openai"])
def test_401_is_rejected_with_the_providers_words_and_no_key(registry, simulator, name):
    simulator.fault(401, message=f"invalid key {TEST_API_KEY}")
    provider = registry.get(name)
    with pytest.raises(ProviderRejected) as caught:
        provider.synthesize(SynthesisRequest(TEXT, provider.default_voice))
    message = str(caught.value)
    assert message.startswith(f"{name}: HTTP 401: invalid key")
    assert TEST_API_KEY not in message and "[redacted]" in message


@pytest.mark.parametrize("name", ["elevenlabs", "openai"])
def test_429_and_500_are_retryable_and_keep_retry_after(registry, simulator, name):
    provider = registry.get(name)
    simulator.fault(429, retry_after_s=2.5)
    with pytest.raises(ProviderRetryable) as caught:
        provider.synthesize(SynthesisRequest(TEXT, provider.default_voice))
    assert (caught.value.status_code, caught.value.retry_after_s) == (429, 2.5)
    simulator.fault(500)
    with pytest.raises(ProviderRetryable) as caught:
        provider.synthesize(SynthesisRequest(TEXT, provider.default_voice))
    assert caught.value.status_code == 500


@pytest.mark.parametrize("kind", ["elevenlabs", "openai"])
def test_an_unreachable_server_is_retryable(kind):
    base = f"http://127.0.0.1:{free_port()}" + ("/v1" if kind == "openai" else "")
    config = ProviderConfig(type=kind, api_key=TEST_API_KEY, base_url=base, timeout_s=2)
    provider = ProviderRegistry({"x": config}).get("x")
    with pytest.raises(ProviderRetryable, match="connection failed"):
        provider.synthesize(SynthesisRequest(TEXT, provider.default_voice))


def test_a_slow_upstream_times_out_as_retryable(simulator):
    simulator.knobs(latency_ms=1500)
    config = ProviderConfig(**{**PROVIDERS["openai"], "timeout_s": 0.5})
    provider = ProviderRegistry({"slow": config}).get("slow")
    with pytest.raises(ProviderRetryable, match="timed out"):
        provider.synthesize(SynthesisRequest(TEXT, "alloy"))


def test_a_slow_voice_listing_never_holds_a_caller_past_its_bound(registry, simulator):
    simulator.knobs(voices_latency_ms=8000)  # past voices_timeout_s (3 s)
    provider = registry.get("elevenlabs")
    started = time.monotonic()
    with pytest.raises(ProviderRetryable):
        provider.voices()
    assert time.monotonic() - started < 5
    # the failure is remembered: the next callers hear it at once, with no second request
    started = time.monotonic()
    with pytest.raises(ProviderRetryable):
        provider.voices()
    assert time.monotonic() - started < 0.5
    assert simulator.stats()["voice_listings"] == 1


def test_submitting_while_voices_cannot_be_listed_is_not_held_up(app, alice, simulator):
    simulator.fault(503, times=5, path="/v1/voices")
    block = {"text": "Listed later.", "provider": "elevenlabs", "voice": "21m00Tcm4TlvDq8ikWAM"}
    timings = []
    for _ in range(3):
        started = time.monotonic()
        response = app.post("/tts", headers=alice, json={"blocks": [block]})
        timings.append(time.monotonic() - started)
        assert response.status_code == 202, response.text  # the provider judges the voice
    assert max(timings) < 3 and simulator.stats()["voice_listings"] == 1
