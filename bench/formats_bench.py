"""Encoding one hour of 24 kHz speech-like audio in every family, as the combine writes a
file (encode_file) and as a stream sends it (StreamEncoder): seconds, and times real time.

The MP3 job path does not encode at all (its combine copies the blocks' frames); its figures
here are for the stream of the OpenAI-compatible endpoint and for comparison.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from bench.combine_bench import speech_like
from utils.audio.encoders import StreamEncoder, encode_file
from utils.audio.formats import OutputFormat

RATE = 24000
HOUR_S = 3600
PIECE_S = 10  # ten seconds of distinct speech-like audio, tiled to an hour
FORMATS = ["mp3_24000_64", "wav_24000", "pcm_24000", "flac_24000", "opus_24000_32", "aac_24000_64"]


def _pieces(piece: np.ndarray, seconds: int):
    for _ in range(seconds // PIECE_S):
        yield piece


def run(seconds: int = HOUR_S) -> dict:
    piece = speech_like(PIECE_S, RATE, seed=7)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in FORMATS:
            fmt = OutputFormat.parse(name)
            path = Path(folder) / f"hour.{fmt.extension}"
            started = time.perf_counter()
            encode_file(fmt, _pieces(piece, seconds), path)
            file_s = time.perf_counter() - started

            encoder = StreamEncoder(fmt.family_name, RATE, fmt.bitrate_kbps)
            started, streamed = time.perf_counter(), 0
            for samples in _pieces(piece, seconds):
                streamed += len(encoder.encode(samples))
            streamed += len(encoder.finish())
            stream_s = time.perf_counter() - started
            scale = HOUR_S / seconds  # figures per hour of audio
            results[fmt.family_name] = {
                "format": name,
                "file_s_per_hour": round(file_s * scale, 2),
                "file_real_time_factor": round(seconds / file_s),
                "file_mb_per_hour": round(path.stat().st_size * scale / 1e6, 1),
                "stream_s_per_hour": round(stream_s * scale, 2),
                "stream_real_time_factor": round(seconds / stream_s),
            }
    return results
