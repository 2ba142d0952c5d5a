"""A block's PCM as pieces of int16 samples: read back from its stored source PCM, decoded
from its MP3 frames, or silence; what the combine and the streams feed an encoder with, in
pieces so that no job's audio is ever held whole."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from utils.audio.formats import OutputFormat
from utils.audio.pcm import decode_mp3
from utils.audio.timeline import ENCODER_DELAY

PIECE_SAMPLES = 48_000  # 1 to 6 s of audio per piece: large enough to cost nothing per call


def read_pcm(handle: BinaryIO, piece_samples: int = PIECE_SAMPLES) -> Iterator[np.ndarray]:
    """Raw s16le from `handle` (a stored block's source PCM), in pieces."""
    while data := handle.read(piece_samples * 2):
        if len(data) % 2:  # a short read mid-sample: complete it
            data += handle.read(1)
        yield np.frombuffer(data, dtype="<i2")


def silence(n_samples: int, piece_samples: int = PIECE_SAMPLES) -> Iterator[np.ndarray]:
    zeros = np.zeros(min(n_samples, piece_samples), dtype=np.int16)
    for start in range(0, n_samples, piece_samples):
        yield zeros[: min(piece_samples, n_samples - start)]


def samples_of_mp3_block(data: bytes, n_samples: int, fmt: OutputFormat) -> np.ndarray:
    """A block stored as MP3 frames, decoded back to its speech: the encoder's lead-in and the
    frame padding cut away (utils/audio/timeline.py ENCODER_DELAY)."""
    decoded = decode_mp3(data, fmt.sample_rate)
    speech = decoded[ENCODER_DELAY : ENCODER_DELAY + n_samples]
    if speech.size < n_samples:  # a decoder that trims its own delay: never cut speech short
        speech = np.pad(speech, (0, n_samples - speech.size))
    return speech
