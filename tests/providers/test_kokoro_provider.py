"""The kokoro provider as a worker runs it: its model and voices fetched from a Hub (the tests'
local mirror, serving the real int8 Kokoro-82M), voices listed, blends spoken, failures said."""

from __future__ import annotations

import time

import numpy as np
import pytest

from config import Settings
from tests.audio_helpers import rms
from tests.hub_mirror import KOKORO
from utils.embedded_redis import free_port
from utils.errors import ProviderRejected
from workers.providers import SynthesisRequest
from workers.providers.kokoro import KokoroProvider
from workers.providers.kokoro_repo import voice_file

TEXT = "The quick brown fox jumps over the lazy dog."


def provider_for(tmp_path, endpoint: str, **entry) -> KokoroProvider:
    settings = Settings(
        PROVIDERS={"kokoro": {"type": "kokoro", "default_voice": "jf_alpha", **entry}},
        DEFAULT_PROVIDER="kokoro",
        DATA_DIR=tmp_path / "data",
        HF_ENDPOINT=endpoint,
        HF_HUB_CACHE=tmp_path / "hf-cache",
        HF_HUB_ETAG_TIMEOUT=2,
    )
    return KokoroProvider("kokoro", settings.PROVIDERS["kokoro"])


@pytest.fixture(scope="module")
def kokoro(hub_mirror_server, tmp_path_factory) -> KokoroProvider:
    return provider_for(tmp_path_factory.mktemp("kokoro"), hub_mirror_server.url)


def pcm(audio) -> np.ndarray:
    assert audio.encoding == "pcm_s16le" and audio.sample_rate == 24000
    return np.frombuffer(audio.data, dtype="<i2")


def spectrum(samples: np.ndarray) -> np.ndarray:
    """The average magnitude spectrum (64 bands up to 4 kHz): a voice's colour."""
    frames = samples[: samples.size // 1024 * 1024].reshape(-1, 1024).astype(np.float32)
    bands = np.abs(np.fft.rfft(frames * np.hanning(1024), axis=1)).mean(axis=0)[:170]
    return bands[: 170 // 64 * 64].reshape(64, -1).mean(axis=1) / bands.mean()


def test_voices_are_the_repositorys_with_language_and_gender(kokoro, hub_mirror):
    voices = {v.id: v for v in kokoro.voices()}
    assert set(voices) == {"jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"}
    assert voices["jm_kumo"].gender == "male" and voices["jf_alpha"].gender == "female"
    assert {v.language for v in voices.values()} == {"ja_JP"}
    assert kokoro.language_of("jm_kumo(1)+jf_alpha(3)") == "ja_JP"
    # blends of listed voices are accepted wherever a voice is checked against the list
    ids = kokoro.voice_ids()
    assert "jf_alpha(2)+jm_kumo(1)" in ids and "jf_alpha + jf_nezumi" in ids
    assert "jf_alpha(2)+af_nobody(1)" not in ids and "jf_alpha(x)" not in ids


def test_a_voice_speaks_and_its_model_is_then_installed(kokoro, hub_mirror):
    audio = kokoro.synthesize(SynthesisRequest(text=TEXT, voice="jf_alpha"))
    samples = pcm(audio)
    assert 1.5 < samples.size / 24000 < 6.0, samples.size / 24000
    assert rms(samples) > 1000
    info = kokoro.model_info()
    assert (info.id, info.revision, info.variant) == (KOKORO, "main", "int8")
    assert info.installed and info.voice_count == 5 and info.languages == ("ja_JP",)
    assert (
        info.size_bytes
        == (hub_mirror.repos[KOKORO].root / "onnx/model_quantized.onnx").stat().st_size
    )
    # only what is used was fetched: the variant, and this one voice
    assert hub_mirror.downloads(KOKORO, voice_file("jm_kumo")) == 0
    words = audio.marks.words
    assert [TEXT[w.char_start : w.char_end] for w in words][:3] == ["The", "quick", "brown"]
    assert all(0 <= w.start < w.end <= samples.size for w in words)


def test_a_blend_differs_from_both_of_its_voices(kokoro, hub_mirror):
    def colour(voice: str) -> np.ndarray:
        return spectrum(pcm(kokoro.synthesize(SynthesisRequest(text=TEXT, voice=voice))))

    alpha, kumo = colour("jf_alpha"), colour("jm_kumo")
    blend = colour("jf_alpha(1)+jm_kumo(1)")
    apart = np.linalg.norm(alpha - kumo)
    assert np.linalg.norm(blend - alpha) > 0.15 * apart
    assert np.linalg.norm(blend - kumo) > 0.15 * apart


def test_speed_shortens_the_audio(kokoro, hub_mirror):
    normal = pcm(kokoro.synthesize(SynthesisRequest(text=TEXT, voice="jf_alpha"))).size
    fast = pcm(kokoro.synthesize(SynthesisRequest(text=TEXT, voice="jf_alpha", speed=1.5))).size
    assert 0.55 < fast / normal < 0.8


def test_a_bad_blend_or_unknown_voice_is_refused_naming_it(kokoro, hub_mirror):
    with pytest.raises(ProviderRejected, match="af_nobody"):
        kokoro.synthesize(SynthesisRequest(text=TEXT, voice="jf_alpha+af_nobody"))
    with pytest.raises(ProviderRejected, match=r"af_bella\(2\)\+af_sky\(1\)"):
        kokoro.synthesize(SynthesisRequest(text=TEXT, voice="jf_alpha((2)"))


def test_an_unreachable_hub_fails_at_once_naming_the_model(tmp_path):
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens
    provider = provider_for(tmp_path, endpoint)
    started = time.monotonic()
    with pytest.raises(ProviderRejected) as refused:
        provider.synthesize(SynthesisRequest(text=TEXT, voice="jf_alpha"))
    assert time.monotonic() - started < 10
    assert f"{KOKORO}@main" in str(refused.value) and endpoint in str(refused.value)
    # the voice list cannot be read either: empty, and the reason given
    assert provider.voice_ids() == [] and "could not" in provider.voice_list_note()
