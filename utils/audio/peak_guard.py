"""The true-peak ceiling kept in a file that one lossy encoder made of the whole timeline
(AAC, M4B, Opus).

A lossy encoder reshapes the waveform, and by how much depends on where its frames fall. The
same leveled Piper block, encoded alone and then after 0 to 1023 samples of silence, came back
between -4.9 and -0.95 dBTP through AAC at 64 kbps (up to 2.4 dB over its own encoding alone;
Opus at 32 kbps: up to 0.6 dB). Each block is checked through the codec on its worker
(utils/audio/loudness.py level_block), but where its frames fall in the file is only known
once every block before it is made; only the file itself says what the encoder made of it.

So the combine decodes the file it wrote and measures its true peak (4x oversampled, streamed:
memory stays flat however long the job). Where it passes the ceiling, the PCM is turned down
around that place alone (a smooth dip across the encoder's reach) and encoded again; a few
dips of a dB or two, each 170 ms wide, leave the programme's loudness where it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import soxr

log = logging.getLogger(__name__)

OVERSAMPLE = 4  # as utils/audio/loudness.py: BS.1770 Annex 2
# A dip reaches this far either side of an over: an AAC frame's transform spans 2048 samples
# (Opus less), so everything the encoder mixed into the over's frame is turned down with it.
DIP_REACH = 2048
DIP_MARGIN_DB = 0.5  # under the ceiling by this much, for what the next encoding reshapes
GROUP = 1024  # overs this close are one dip
# Encodings after the first, at most: each dips what the last one left over (measured: 2 for
# speech whose peaks were held right at the ceiling, 4 when 0.5 dB under it through Opus).
ROUNDS = 5


@dataclass(frozen=True)
class Over:
    sample: int  # where the file passes the ceiling (at the file's rate)
    db: float  # by how much


def overs(path: Path, sample_rate: int, ceiling_db: float) -> list[Over]:
    """Where the decoded file's true peak passes `ceiling_db`: one Over per GROUP samples (of
    `sample_rate`, the timeline's; measured at the decoder's own rate: Opus decodes at 48 kHz)."""
    limit = 10 ** (ceiling_db / 20)
    found: dict[int, float] = {}
    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        native = audio.codec_context.sample_rate
        stream = soxr.ResampleStream(native, native * OVERSAMPLE, 1, dtype="float32")
        per_sample = sample_rate / (native * OVERSAMPLE)  # an oversampled step, in samples
        position = 0  # oversampled samples seen

        def scan(up: np.ndarray) -> None:
            nonlocal position
            for at in np.flatnonzero(np.abs(up) > limit):
                group = int((position + at) * per_sample) // GROUP
                found[group] = max(found.get(group, 0.0), 20 * np.log10(abs(up[at]) / limit))
            position += up.size

        resampler = av.AudioResampler(format="flt", layout="mono", rate=native)
        for frame in container.decode(audio):
            for mono in resampler.resample(frame):
                scan(stream.resample_chunk(mono.to_ndarray().reshape(-1)))
        for mono in resampler.resample(None):
            scan(stream.resample_chunk(mono.to_ndarray().reshape(-1)))
        scan(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    return [Over(group * GROUP + GROUP // 2, float(db)) for group, db in sorted(found.items())]


def dipped(chunks: Iterable[np.ndarray], dips: list[Over]) -> Iterator[np.ndarray]:
    """`chunks` (mono int16) with each dip applied: its dB (plus the margin) at its sample,
    easing back to none over DIP_REACH + GROUP on either side (raised cosine). Dips that
    overlap add up."""
    if not dips:
        yield from chunks
        return
    centres = np.array([d.sample for d in dips])
    depths = np.array([d.db + DIP_MARGIN_DB for d in dips])
    half = DIP_REACH + GROUP
    position = 0
    for chunk in chunks:
        n = chunk.size
        near = np.flatnonzero((centres + half > position) & (centres - half < position + n))
        if near.size == 0:
            yield chunk
        else:
            where = np.arange(position, position + n)
            loss_db = np.zeros(n)
            for i in near:
                distance = np.abs(where - centres[i]) / half
                shape = np.where(distance < 1, 0.5 + 0.5 * np.cos(np.pi * distance), 0.0)
                loss_db += depths[i] * shape
            scaled = chunk.astype(np.float64) * 10 ** (-loss_db / 20)
            yield np.clip(np.rint(scaled), -32768, 32767).astype(np.int16)
        position += n


def keep_under_ceiling(
    path: Path, sample_rate: int, ceiling_db: float, encode_again: Callable[[list[Over]], None]
) -> list[Over]:
    """Once the file at `path` is written: while its true peak passes `ceiling_db` (at most
    ROUNDS times), have `encode_again` rewrite it with every dip found so far. The dips."""
    dips: list[Over] = []
    for _ in range(ROUNDS):
        found = overs(path, sample_rate, ceiling_db)
        if not found:
            return dips
        dips += found
        encode_again(dips)
    if left := overs(path, sample_rate, ceiling_db):
        worst = max(o.db for o in left)
        log.warning("%s: true peak still %.2f dB over %.1f dBTP", path.name, worst, ceiling_db)
    return dips
