"""A context's audio as it goes out: each piece's PCM cut into short chunks, encoded in the
asked format by one encoder for the whole context (so an MP3 stream is one gapless stream),
each chunk with the alignment of the characters that start in it.

Alignment comes from the timings the worker stored with the block (utils/audio/timings.py):
words where the provider gave them, else sentences, exact where the provider says (Piper's
sentences are synthesized one by one; ElevenLabs aligns characters), estimated otherwise. Within
a span, characters share its time evenly. Times are in ms from the start of the chunk they
arrive with, as ElevenLabs sends them; spaces between spans have no duration.
"""

from __future__ import annotations

import base64
import json

import numpy as np

from api.realtime.protocol import AudioFormat
from utils.audio.encoders import StreamEncoder

CHUNK_MS = 500  # audio per message: small enough for any client's frame limit (1 MiB)


def _g711(samples: np.ndarray, law: str) -> bytes:
    """G.711 μ-law or A-law bytes of int16 samples (ITU-T G.711, segment encoding)."""
    s = samples.astype(np.int32)
    if law == "ulaw":  # on 14 bits, as the standard's reference code (and audioop) does
        s14 = s >> 2
        negative = s14 < 0
        mag = np.minimum(np.where(negative, -s14, s14), 8159) + 0x21
        segment = np.clip(np.floor(np.log2(mag)).astype(np.int32) - 5, 0, 7)
        code = (segment << 4) | ((mag >> (segment + 1)) & 0x0F)
        code = np.where(mag > 0x1FFF, 0x7F, code)  # the loudest code, for what clipped
        return (code ^ np.where(negative, 0x7F, 0xFF)).astype(np.uint8).tobytes()
    positive = s >= 0
    mag = np.minimum(np.where(positive, s, -s - 1), 32767)
    exponent = np.clip(np.floor(np.log2(np.maximum(mag, 1))).astype(np.int32) - 7, 0, 7)
    shift = np.where(exponent == 0, 4, exponent + 3)
    mantissa = (mag >> shift) & 0x0F
    code = (exponent << 4) | mantissa | (positive.astype(np.int32) << 7)
    return (code ^ 0x55).astype(np.uint8).tobytes()


def char_times(text: str, timings: str | None, n_samples: int, rate: int):
    """(start ms, duration ms) of each character of `text`, in a block `n_samples` long, and
    where the times come from."""
    rows, source, row_rate = [], "estimated", rate
    if timings:
        data = json.loads(timings)
        rows = data.get("words") or data.get("sentences") or []
        source, row_rate = data.get("source", source), data.get("rate", rate)
    if not rows:  # nothing stored: the block's characters spread over it
        rows, row_rate = [[0, len(text), 0, n_samples]], rate
    times = [None] * len(text)
    for a, b, start, end in rows:
        start_ms, end_ms = start * 1000 / row_rate, max(end, start) * 1000 / row_rate
        step = (end_ms - start_ms) / max(b - a, 1)
        for i in range(a, min(b, len(text))):
            times[i] = (start_ms + (i - a) * step, step)
    last = 0.0
    for i, t in enumerate(times):  # a character in no span: where the one before it ended
        if t is None:
            times[i] = (last, 0.0)
        else:
            last = t[0] + t[1]
    return times, source


class AudioOut:
    """One context's encoder: PCM in (int16 at the format's rate), messages' audio out."""

    def __init__(self, fmt: AudioFormat):
        self.fmt = fmt
        self.encoder: StreamEncoder | None = None  # made with the first audio: LAME's state
        # is some hundred kB, which an idle connection need not hold

    def _encode(self, samples: np.ndarray) -> bytes:
        if self.fmt.codec == "mp3":
            if self.encoder is None:
                self.encoder = StreamEncoder("mp3", self.fmt.rate, self.fmt.kbps)
            return self.encoder.encode(samples)
        if self.fmt.codec in ("ulaw", "alaw"):
            return _g711(samples, self.fmt.codec)
        return samples.astype("<i2").tobytes()

    def chunks(
        self, samples: np.ndarray, text: str, timings: str | None
    ) -> list[tuple[str, dict | None, str]]:
        """A block's audio as (base64 audio, alignment, source) per chunk of CHUNK_MS."""
        rate = self.fmt.rate
        times, source = char_times(text, timings, samples.size, rate)
        step = rate * CHUNK_MS // 1000
        out = []
        for first in range(0, max(samples.size, 1), step):
            begin_ms, end_ms = first * 1000 / rate, (first + step) * 1000 / rate
            last_chunk = first + step >= samples.size
            mine = [
                i
                for i, (start, _) in enumerate(times)
                if begin_ms <= start < end_ms or (last_chunk and start >= end_ms)
            ]
            alignment = None
            if mine:
                alignment = {
                    "chars": [text[i] for i in mine],
                    "charStartTimesMs": [round(times[i][0] - begin_ms) for i in mine],
                    "charDurationsMs": [round(times[i][1]) for i in mine],
                }
            data = self._encode(samples[first : first + step])
            out.append((base64.b64encode(data).decode(), alignment, source))
        return out

    def finish(self) -> bytes:
        """The encoder's tail (MP3's last frames); nothing for raw formats."""
        return self.encoder.finish() if self.encoder is not None else b""

    def close(self) -> None:
        if self.encoder is not None:
            self.encoder.close()
