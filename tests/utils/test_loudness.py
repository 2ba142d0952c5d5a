"""Each block brought to a loudness target: measured per BS.1770, peaks kept under a ceiling."""

from __future__ import annotations

import numpy as np
import pytest

from utils.audio.cache import content_digest
from utils.audio.formats import OutputFormat
from utils.audio.loudness import (
    MP3_ENCODER_GAIN_DB,
    integrated_lufs,
    level,
    level_block,
    true_peak_db,
)
from utils.audio.loudness_target import Leveled, LoudnessTarget
from utils.audio.pcm import decode_mp3, encode_mp3
from utils.jobs.models import BlockSpec

RATE = 24000


def speechlike(seconds: float, gain_db: float = 0.0, seed: int = 1) -> np.ndarray:
    """Noise shaped like speech: syllables (150-300 ms bursts of band-limited noise with a
    voiced tone) and short gaps, with sharp peaks, as int16."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * RATE))
    at = 0
    while at < out.size:
        n = int(rng.uniform(0.15, 0.3) * RATE)
        t = np.arange(n) / RATE
        voiced = np.sin(2 * np.pi * rng.uniform(100, 220) * t) * 0.5
        noise = np.convolve(rng.standard_normal(n), np.ones(4) / 4, mode="same") * 0.3
        burst = (voiced + noise) * np.hanning(n)
        out[at : at + n] = burst[: out.size - at]
        at += n + int(rng.uniform(0.03, 0.12) * RATE)
    out *= 0.3 * 10 ** (gain_db / 20)
    return np.clip(out * 32768, -32768, 32767).astype(np.int16)


def test_blocks_10_db_apart_land_on_the_target_with_peaks_under_the_ceiling():
    target = LoudnessTarget(-16.0, -1.0)
    loud, quiet = speechlike(4, 0, seed=1), speechlike(4, -10, seed=2)
    assert integrated_lufs(loud, RATE) - integrated_lufs(quiet, RATE) == pytest.approx(10, abs=1)
    for block in (loud, quiet):
        leveled, measured = level(block, RATE, target)
        assert integrated_lufs(leveled, RATE) == pytest.approx(-16.0, abs=0.15)
        assert true_peak_db(leveled, RATE) <= -1.0 + 0.01
        assert measured.before_lufs == pytest.approx(integrated_lufs(block, RATE))
        assert measured.after_lufs == pytest.approx(integrated_lufs(leveled, RATE), abs=0.05)


def test_a_peaky_block_is_limited_not_just_turned_down():
    block = speechlike(4, -6)
    block[RATE : RATE + 40 : 4] = 32000  # clicks far above the speech
    leveled, measured = level(block, RATE, LoudnessTarget(-16.0, -3.0))
    assert true_peak_db(leveled, RATE) <= -3.0 + 0.01
    # turned down to the ceiling alone, it would sit ~20 dB under the target; the limiter takes
    # the clicks off instead (up to MAX_LIMITING_DB), so it lands near the target
    turned_down = measured.before_lufs + (-3.0 - true_peak_db(block, RATE))
    assert integrated_lufs(leveled, RATE) > turned_down + 12
    assert integrated_lufs(leveled, RATE) == pytest.approx(-16.0, abs=1.0)
    assert measured.gain_db > 0


def test_true_peak_sees_between_the_samples():
    # a sine at a quarter of the rate, sampled 45 degrees off its crests: every sample is at
    # 0.707 of the crest, which lies between samples
    t = np.arange(RATE)
    wave = (16384 * np.sin(np.pi / 2 * t + np.pi / 4)).astype(np.int16)
    sample_peak = 20 * np.log10(np.abs(wave).max() / 32768)
    assert true_peak_db(wave, RATE) - sample_peak == pytest.approx(3.0, abs=0.3)


def test_a_block_shorter_than_a_gating_block_is_measured_over_its_own_length():
    short = speechlike(0.25, -8)
    assert integrated_lufs(short, RATE) is not None
    leveled, measured = level(short, RATE, LoudnessTarget(-19.0, -3.0))
    assert integrated_lufs(leveled, RATE) == pytest.approx(-19.0, abs=0.3)
    assert measured.before_lufs < measured.after_lufs


def test_silence_and_no_target_are_left_alone():
    silence = np.zeros(RATE, dtype=np.int16)
    same, measured = level(silence, RATE, LoudnessTarget(-16.0))
    assert same is silence and measured == Leveled(None, None, 0.0, None)
    block = speechlike(1)
    assert level_block(block, OutputFormat.parse("mp3_24000_64"), None) == (block, {})
    target = LoudnessTarget(-16.0)
    # lossy: measured as it decodes (LAME takes MP3_ENCODER_GAIN_DB off, so the block itself
    # is that much louder), under the ceiling by the codec's headroom
    mp3 = OutputFormat.parse("mp3_24000_64")
    leveled, fields = level_block(block, mp3, target)
    reported, decoded = Leveled.from_fields(fields), decode_mp3(encode_mp3(leveled, mp3), RATE)
    assert reported.true_peak_db == pytest.approx(true_peak_db(decoded, RATE), abs=0.01)
    assert reported.true_peak_db <= -1.0
    assert reported.after_lufs == pytest.approx(-16.0, abs=0.15)
    assert integrated_lufs(decoded, RATE) == pytest.approx(-16.0, abs=0.2)
    assert integrated_lufs(leveled, RATE) == pytest.approx(-16.0 - MP3_ENCODER_GAIN_DB, abs=0.15)


class _Provider:
    def audio_identity(self):
        return ("piper", "piper")


def test_the_cache_key_includes_the_loudness_target():
    spec = BlockSpec("Hello there.", "piper", "v")
    plain = content_digest(_Provider(), spec, "mp3_24000_64")
    podcast = content_digest(_Provider(), spec, "mp3_24000_64", loudness=LoudnessTarget(-16, -1))
    audiobook = content_digest(_Provider(), spec, "mp3_24000_64", loudness=LoudnessTarget(-19, -3))
    assert len({plain, podcast, audiobook}) == 3
    assert plain == content_digest(_Provider(), spec, "mp3_24000_64", (None, None), None)
