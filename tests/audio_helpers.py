"""Measuring real audio in assertions: decode, find speech, find silences."""

from __future__ import annotations

import subprocess

import imageio_ffmpeg
import numpy as np

from utils.audio.pcm import decode_mp3


def decode(data: bytes, sample_rate: int) -> np.ndarray:
    return decode_mp3(data, sample_rate)


def ffmpeg_decode(data: bytes, sample_rate: int) -> np.ndarray:
    """Decode with ffmpeg, the decoder browsers and most players share."""
    result = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            "pipe:0",
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            str(sample_rate),
            "pipe:1",
        ],
        input=data,
        capture_output=True,
        check=True,
    )
    return np.frombuffer(result.stdout, dtype="<i2")


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0


def tone(
    seconds: float, sample_rate: int, freq: float = 440.0, amplitude: int = 12000
) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)
