"""Audio the simulator speaks: a tone per voice, as long as the text takes to read.

The edges are left abrupt on purpose, as some providers' are, so the service's own edge
handling is what keeps the joins free of clicks.
"""

from __future__ import annotations

import hashlib
import io
import wave
from functools import lru_cache

import numpy as np

from utils.audio.formats import OutputFormat
from utils.audio.pcm import encode_mp3

SECONDS_PER_CHAR = 0.045
MIN_SECONDS = 0.3


def voice_frequency(voice: str) -> float:
    """A stable pitch per voice between 200 and 800 Hz, so tests can tell voices apart."""
    return 200.0 + int(hashlib.sha256(voice.encode()).hexdigest()[:6], 16) % 600


def speech_seconds(text: str, speed: float = 1.0) -> float:
    return max(MIN_SECONDS, len(text) * SECONDS_PER_CHAR) / speed


MAX_SECONDS = 120


@lru_cache(maxsize=64)
def _voice_wave(voice: str, sample_rate: int) -> np.ndarray:
    """The voice's tone, computed once: the simulator stands in for a remote server, so its
    own CPU use should not weigh on the machine it shares with the service."""
    t = np.arange(MAX_SECONDS * sample_rate) / sample_rate
    return (9000 * np.sin(2 * np.pi * voice_frequency(voice) * t)).astype(np.int16)


def tone(text: str, voice: str, sample_rate: int, speed: float = 1.0) -> np.ndarray:
    n = int(min(speech_seconds(text, speed), MAX_SECONDS) * sample_rate)
    return _voice_wave(voice, sample_rate)[:n]


def render(samples: np.ndarray, encoding: str, sample_rate: int, mp3_kbps: int = 128) -> bytes:
    if encoding == "pcm":
        return samples.astype("<i2").tobytes()
    if encoding == "wav":
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            out.writeframes(samples.astype("<i2").tobytes())
        return buffer.getvalue()
    return encode_mp3(samples, OutputFormat(sample_rate, mp3_kbps))


def character_alignment(text: str, seconds: float) -> dict:
    """ElevenLabs' `alignment` for a tone of `seconds`: every character an equal share, in order
    (so a word's time follows from its place in the text)."""
    step = seconds / max(1, len(text))
    return {
        "characters": list(text),
        "character_start_times_seconds": [round(i * step, 4) for i in range(len(text))],
        "character_end_times_seconds": [round((i + 1) * step, 4) for i in range(len(text))],
    }
