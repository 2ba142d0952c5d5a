"""MP3 frames: find them, strip what describes a whole file, and make frames of silence.

The combine copies frames and never decodes (utils/audio/timeline.py says where each goes).
The pieces are bare CBR frames of one format (no ID3, no Xing/Info header), so the stitched
result is one valid constant-bitrate stream whose duration players compute from its size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from utils.audio.formats import OutputFormat
from utils.audio.pcm import encode_mp3

_BITRATES_KBPS = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1 Layer III
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2/2.5 Layer III
}
_SAMPLE_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 25: (11025, 12000, 8000)}
_VERSION_BITS = {0b11: 1, 0b10: 2, 0b00: 25}


@dataclass(frozen=True)
class FrameHeader:
    version: int  # 1, 2 or 25 (MPEG-2.5)
    sample_rate: int
    bitrate_kbps: int
    length: int  # bytes, header included
    mono: bool
    has_crc: bool

    @property
    def samples(self) -> int:
        return 1152 if self.version == 1 else 576

    @property
    def side_info_length(self) -> int:
        if self.version == 1:
            return 17 if self.mono else 32
        return 9 if self.mono else 17


def parse_header(data: bytes | memoryview, offset: int) -> FrameHeader | None:
    """The Layer III frame header at `offset`, or None if there is none."""
    if offset + 4 > len(data):
        return None
    return _header(bytes(data[offset : offset + 4]))


# A stream's frames share a handful of distinct headers (padding on or off): each is read once
@lru_cache(maxsize=256)
def _header(four: bytes) -> FrameHeader | None:
    b0, b1, b2, b3 = four
    if b0 != 0xFF or (b1 & 0xE0) != 0xE0 or ((b1 >> 1) & 0b11) != 0b01:
        return None
    version = _VERSION_BITS.get((b1 >> 3) & 0b11)
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 0b11
    if version is None or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = _BITRATES_KBPS[1 if version == 1 else 2][bitrate_index]
    sample_rate = _SAMPLE_RATES[version][rate_index]
    factor = 144 if version == 1 else 72
    length = factor * bitrate * 1000 // sample_rate + ((b2 >> 1) & 1)
    mono = (b3 >> 6) == 0b11
    return FrameHeader(version, sample_rate, bitrate, length, mono, has_crc=not (b1 & 1))


def _skip_id3v2(data: bytes | memoryview) -> int:
    if len(data) >= 10 and bytes(data[:3]) == b"ID3":
        size = 0
        for byte in data[6:10]:  # a "syncsafe" integer: 7 bits per byte
            size = (size << 7) | (byte & 0x7F)
        return 10 + size + (10 if data[5] & 0x10 else 0)
    return 0


def iter_frames(data: bytes | memoryview) -> Iterator[tuple[int, FrameHeader]]:
    """(offset, header) of each audio frame, past any ID3v2 tag and stopping at ID3v1."""
    offset = _skip_id3v2(data)
    while (header := parse_header(data, offset)) is not None:
        if offset + header.length > len(data):
            break
        yield offset, header
        offset += header.length


def is_info_frame(data: bytes | memoryview, offset: int, header: FrameHeader) -> bool:
    """A Xing/Info (or VBRI) frame describes a whole file; a stitched file must not keep one."""
    tag_at = offset + 4 + (2 if header.has_crc else 0) + header.side_info_length
    return (
        bytes(data[tag_at : tag_at + 4]) in (b"Xing", b"Info")
        or bytes(data[offset + 36 : offset + 40]) == b"VBRI"
    )


def main_data_begin(data: bytes | memoryview, offset: int, header: FrameHeader) -> int:
    """How many bytes of earlier frames this frame borrows (the bit reservoir)."""
    side = offset + 4 + (2 if header.has_crc else 0)
    if header.version == 1:
        return (data[side] << 1) | (data[side + 1] >> 7)
    return data[side]


@dataclass(frozen=True)
class AudioFrames:
    """Bare frames of one format, ready to be stitched."""

    data: bytes
    n_frames: int
    samples_per_frame: int

    @property
    def n_samples(self) -> int:
        """Samples a decoder outputs for these frames (no gapless trimming)."""
        return self.n_frames * self.samples_per_frame


def bare_frames(data: bytes, fmt: OutputFormat) -> AudioFrames:
    """Strip ID3 tags and Xing/Info frames; refuse frames not of `fmt` (they cannot be joined)."""
    view = memoryview(data)
    parts, count = [], 0
    for offset, header in iter_frames(view):
        if count == 0 and is_info_frame(view, offset, header):  # a header frame leads
            continue
        if (header.sample_rate, header.bitrate_kbps, header.mono) != (
            fmt.sample_rate,
            fmt.bitrate_kbps,
            True,
        ):
            raise ValueError(f"frame at byte {offset} is not {fmt.name} mono")
        parts.append(view[offset : offset + header.length])
        count += 1
    if count == 0:
        raise ValueError("no MP3 frames found")
    return AudioFrames(b"".join(parts), count, fmt.samples_per_frame)


@lru_cache(maxsize=32)
def silence_frame(fmt: OutputFormat) -> bytes:
    """One self-contained frame of digital silence in `fmt`.

    The first frame of a stream never borrows from the bit reservoir (main_data_begin == 0),
    so it can be repeated any number of times and anywhere: k copies decode to k frames of zeros.
    """
    data = encode_mp3(np.zeros(0, dtype=np.int16), fmt)
    offset, header = next(iter_frames(data))
    assert main_data_begin(data, offset, header) == 0
    return data[offset : offset + header.length]


def encoder_gaps(data: bytes | memoryview) -> tuple[int, int] | None:
    """(delay, padding) in samples, as the encoder wrote them in its LAME tag (LAME and
    FFmpeg's libmp3lame write one in the Info/Xing frame that leads a file), or None without
    one. The speech is the decoded frames less `delay` samples at the start (before the
    decoder's own delay) and `padding` at the end."""
    frames = iter_frames(data)
    first = next(frames, None)
    if first is None or not is_info_frame(data, *first):
        return None
    offset, header = first
    at = offset + 4 + (2 if header.has_crc else 0) + header.side_info_length
    if bytes(data[at : at + 4]) not in (b"Xing", b"Info"):
        return None
    flags = int.from_bytes(data[at + 4 : at + 8], "big")
    # the optional fields the flags announce: frames, bytes, table of contents, quality
    at += (
        8 + 4 * bool(flags & 1) + 4 * bool(flags & 2) + 100 * bool(flags & 4) + 4 * bool(flags & 8)
    )
    if bytes(data[at : at + 4]) not in (b"LAME", b"Lavc", b"Lavf") or at + 24 > len(data):
        return None
    b0, b1, b2 = data[at + 21 : at + 24]
    return (b0 << 4) | (b1 >> 4), ((b1 & 0x0F) << 8) | b2
