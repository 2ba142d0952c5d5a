"""Even loudness: each block brought to the job's loudness target on its worker.

Blocks come from different providers and voices (and SSML volume changes) at levels many dB
apart. Each block is measured per ITU-R BS.1770 (pyloudnorm: K-weighting, 400 ms gating
blocks, absolute and relative gates), given the gain that brings it to the target, then kept
under the true-peak ceiling by a look-ahead limiter. Since every block lands on the target and
the pauses between them are digital silence (below the absolute gate), the whole programme's
integrated loudness lands on the target too, without ever holding the programme whole.

True peak is the peak of the signal oversampled 4x (BS.1770 Annex 2), with soxr.

Blocks shorter than one 400 ms gating block have no full BS.1770 block; they are measured as
one gating block of their own length (pyloudnorm with block_size = the block's duration), the
shortest window that still K-weights and gates like the rest.
"""

from __future__ import annotations

import io
import math
from dataclasses import replace

import av
import numpy as np
import pyloudnorm
import soxr
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from utils.audio.encoders import encode_bytes
from utils.audio.loudness_target import Leveled, LoudnessTarget
from utils.audio.pcm import decode_mp3, encode_mp3

GATE_BLOCK_S = 0.4  # BS.1770's gating block
OVERSAMPLE = 4  # true peak: 4x oversampled (BS.1770-4 Annex 2)
# The limiter sees peaks this early and releases over the same span: short enough not to pump
# on speech, long enough that the gain never changes within a waveform's cycle at 100 Hz.
LIMITER_WINDOW_MS = 10
# Lossy encoders (MP3, AAC, Opus) reshape the waveform and raise its true peak: measured on
# leveled Piper speech, up to 0.8 dB (AAC at 64 kbps in a whole job, MP3 at 32 kbps); the
# blocks are limited this far under the ceiling so the encoded file still keeps it.
CODEC_HEADROOM_DB = 1.0
# LAME (lameenc) comes out 0.43 dB quieter than it goes in, at every rate and bitrate here (a
# 440 Hz sine of amplitude 10000 decodes at 9520, with miniaudio and FFmpeg alike): MP3 blocks
# are leveled that much higher, so the decoded file lands on the target.
MP3_ENCODER_GAIN_DB = -0.43
LIMITER_ROUNDS = 5
# The most the limiter may take off a block's peaks. Piper scales each utterance to a full-scale
# peak, so its blocks stand 18-21 dB over their loudness; -16 LUFS under -1 dBTP takes 12 dB off
# the loudest (measured); past 16 dB, speech sounds squashed: such a block stays under target.
MAX_LIMITING_DB = 16.0


def _float(samples: np.ndarray) -> np.ndarray:
    return samples.astype(np.float64) / 32768.0


def integrated_lufs(samples: np.ndarray, sample_rate: int) -> float | None:
    """Integrated loudness (LUFS) of mono int16 or float samples; None for silence or nothing."""
    data = _float(samples) if samples.dtype == np.int16 else np.asarray(samples, np.float64)
    if data.size == 0:
        return None
    block_s = min(GATE_BLOCK_S, data.size / sample_rate)
    loudness = pyloudnorm.Meter(sample_rate, block_size=block_s).integrated_loudness(data)
    return float(loudness) if math.isfinite(loudness) else None


def true_peak_db(samples: np.ndarray, sample_rate: int) -> float | None:
    """dBTP: the peak of the 4x oversampled signal; None for silence."""
    data = _float(samples) if samples.dtype == np.int16 else np.asarray(samples, np.float64)
    peak = float(np.max(np.abs(_oversampled(data.astype(np.float32), sample_rate)), initial=0.0))
    return 20 * math.log10(peak) if peak > 0 else None


def _oversampled(data: np.ndarray, sample_rate: int) -> np.ndarray:
    if data.size == 0:
        return data
    return soxr.resample(data, sample_rate, sample_rate * OVERSAMPLE, quality="HQ")


def _limit(data: np.ndarray, sample_rate: int, ceiling: float) -> np.ndarray:
    """A look-ahead limiter: the gain at each sample is the lowest any true peak within the
    window asks for, smoothed over half that window, so no peak passes the ceiling and the gain
    moves gently; samples far from a peak keep a gain of 1."""
    up = np.abs(_oversampled(data.astype(np.float32), sample_rate))
    n = data.size
    envelope = np.zeros(n)
    whole = min(n, up.size // OVERSAMPLE)
    envelope[:whole] = up[: whole * OVERSAMPLE].reshape(whole, OVERSAMPLE).max(axis=1)
    envelope = np.maximum(envelope, np.abs(data))
    window = max(1, int(sample_rate * LIMITER_WINDOW_MS / 1000))
    reach = maximum_filter1d(envelope, size=2 * window + 1, mode="nearest")
    gain = np.minimum(1.0, ceiling / np.maximum(reach, 1e-12))
    # Each sample's gain is a mean of gains that all saw its own peak: none exceeds ceiling.
    return data * uniform_filter1d(gain, size=window, mode="nearest")


def level(
    samples: np.ndarray, sample_rate: int, target: LoudnessTarget, headroom_db: float = 0.0
) -> tuple[np.ndarray, Leveled]:
    """`samples` (mono int16) at the target loudness with true peaks under the ceiling (less
    `headroom_db`, for lossy codecs); silence is returned as it is."""
    before = integrated_lufs(samples, sample_rate)
    if before is None:
        return samples, Leveled(None, None, 0.0, None)
    data = _float(samples)
    ceiling_db = target.true_peak_db - headroom_db
    gain_db = target.integrated_lufs - before
    peak_db = true_peak_db(samples, sample_rate) + gain_db
    if peak_db <= ceiling_db:  # the usual case for quiet targets: a plain gain
        out, after = data * 10 ** (gain_db / 20), before + gain_db
    else:
        most_db = ceiling_db - (peak_db - gain_db) + MAX_LIMITING_DB
        ceiling = 10 ** (ceiling_db / 20)
        out, after, gain_db = _limited(data, sample_rate, target, gain_db, ceiling, most_db)
        peak_db = true_peak_db(out, sample_rate)
        if peak_db > ceiling_db:  # what falls between the limiter's view and the true peak
            out *= 10 ** ((ceiling_db - peak_db) / 20)
            after, peak_db = after + ceiling_db - peak_db, ceiling_db
    result = np.clip(np.rint(out * 32768.0), -32768, 32767).astype(np.int16)
    return result, Leveled(before, after, gain_db, peak_db)


def _limited(
    data: np.ndarray,
    sample_rate: int,
    target: LoudnessTarget,
    gain_db: float,
    ceiling: float,
    most_db: float,
) -> tuple[np.ndarray, float, float]:
    """Gain then limiter. The limiter takes loudness off, more the harder it works, so the gain
    is searched for (secant steps from the plain gain) until the block lands within 0.1 LU;
    speech converges in two or three rounds. The gain never passes `most_db`, where the limiter
    would cut MAX_LIMITING_DB off the peaks: a block that needs more stays under its target
    (its measured loudness says so). The block, its loudness and the gain."""
    tried: list[tuple[float, float]] = []
    for _ in range(LIMITER_ROUNDS):
        out = _limit(data * 10 ** (gain_db / 20), sample_rate, ceiling)
        after = integrated_lufs(out, sample_rate)
        if after is None or abs(target.integrated_lufs - after) <= 0.1:
            break
        tried.append((gain_db, after))
        step = target.integrated_lufs - after
        if len(tried) > 1:
            (g0, a0), (g1, a1) = tried[-2:]
            if a1 - a0 > 0.01:  # louder for more gain: follow the slope, within reason
                step = min(step * (g1 - g0) / (a1 - a0), 4 * abs(step) + 1)
        if step > 0 and gain_db >= most_db:
            break
        gain_db = min(gain_db + step, most_db)
    return out, after, gain_db


LOSSLESS = ("wav", "pcm", "flac")
CODEC_ROUNDS = 2  # re-limits of a block whose encoded peak still passed the ceiling


def level_block(
    samples: np.ndarray, fmt, target: LoudnessTarget | None
) -> tuple[np.ndarray, dict[str, str]]:
    """A block's PCM leveled for a job in `fmt` (an OutputFormat), and what was measured, as
    stored on the block (as the block will decode); unchanged, and nothing measured, without
    a target.

    Lossy families are limited CODEC_HEADROOM_DB under the ceiling, then the block is encoded
    and decoded once to measure what the codec made of its peaks: heavily limited speech can
    come back up to 2 dB higher (measured: AAC at 64 kbps), and is then limited again that much
    lower. The combine's encoder sees the same PCM, so the file keeps the ceiling."""
    if target is None:
        return samples, {}
    rate = fmt.sample_rate
    if fmt.family_name in LOSSLESS:
        leveled, measured = level(samples, rate, target)
        return leveled, measured.to_fields()
    codec_db = MP3_ENCODER_GAIN_DB if fmt.is_mp3 else 0.0
    aim = LoudnessTarget(target.integrated_lufs - codec_db, target.true_peak_db - codec_db)
    headroom = CODEC_HEADROOM_DB
    for _ in range(CODEC_ROUNDS + 1):
        leveled, measured = level(samples, rate, aim, headroom)
        if measured.after_lufs is None:
            return leveled, measured.to_fields()
        decoded_peak = _codec_peak_db(leveled, fmt)
        if decoded_peak <= target.true_peak_db:
            break
        headroom += decoded_peak - target.true_peak_db + 0.1
    else:  # still over after the rounds: turned down by what is left (codecs are linear enough)
        trim_db = decoded_peak - target.true_peak_db + 0.1
        leveled = _gain(leveled, -trim_db)
        measured = replace(measured, after_lufs=measured.after_lufs - trim_db)
        measured = replace(measured, gain_db=measured.gain_db - trim_db)
        decoded_peak -= trim_db
    measured = replace(  # as the block will sound once encoded
        measured,
        after_lufs=measured.after_lufs + codec_db,
        gain_db=measured.gain_db + codec_db,
        true_peak_db=decoded_peak,
    )
    return leveled, measured.to_fields()


def _gain(samples: np.ndarray, gain_db: float) -> np.ndarray:
    scaled = samples.astype(np.float64) * 10 ** (gain_db / 20)
    return np.clip(np.rint(scaled), -32768, 32767).astype(np.int16)


def _codec_peak_db(samples: np.ndarray, fmt) -> float:
    """The true peak of `samples` once encoded in `fmt` and decoded."""
    if fmt.is_mp3:
        decoded, rate = decode_mp3(encode_mp3(samples, fmt), fmt.sample_rate), fmt.sample_rate
    else:
        with av.open(io.BytesIO(encode_bytes(fmt, samples))) as container:
            stream = container.streams.audio[0]
            rate = stream.sample_rate
            pieces = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
        decoded = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    return true_peak_db(decoded, rate) or -math.inf
