"""Mono int16 PCM to every output family: progressively (StreamEncoder) or as a whole file.

Containers and codecs are FFmpeg's, through PyAV; the only container code of our own is the
44-byte WAV header. An MP3 stream goes through LAME in process (lameenc, as the blocks do):
about 5x faster than libmp3lame driven through PyAV (measured on speech at 24 kHz, 64 kbps). An
MP3 file goes through PyAV, whose muxer writes the LAME tag that makes its duration exact (jobs
never take this path: their MP3 is stitched from the blocks' frames, workers/combine.py).

Two ways to write, because a container's header either can or cannot be final:
- a stream (StreamEncoder): the muxer writes to a sink it cannot seek in, so nothing is ever
  rewritten and bytes are handed out as they come: a WAV header of unknown size (as streaming
  servers send), a FLAC stream without a total, Ogg pages, ADTS frames (AAC).
- a file (encode_file): the muxer may seek, so headers are exact: WAV sizes, FLAC STREAMINFO's
  total, MP4's index with the edit list that hides AAC's priming, Ogg Opus's pre-skip.
Either way the PCM comes in chunks and is never held whole.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable
from contextlib import nullcontext, suppress
from pathlib import Path
from typing import BinaryIO

import av
import lameenc
import numpy as np

from utils.audio.formats import FAMILIES, OutputFormat
from utils.audio.tags import (
    FileTags,
    add_mp4_cover,
    add_vorbis_chapters,
    ffmpeg_chapters,
    ffmpeg_metadata,
)

# Bitrates for a stream asked for by family alone (OpenAI's response_format): what its speech
# API sends at 24 kHz is in this range, and each is transparent for speech.
# A stream is encoded while it is sent, on CPU its synthesis shares: libopus at complexity 6
# encodes 3.5x faster than at its default 10 (97 s of speech: 0.23 s against 0.80 s) for
# 0.3 dB less waveform SNR at 32 kbps. Files keep the default.
STREAM_CODEC_OPTIONS = {"opus": {"compression_level": "6"}}
DEFAULT_KBPS = {"mp3": 64, "opus": 32, "aac": 64, "m4b": 64}
# PyAV muxer and codec of each family it writes, file first, then stream where they differ.
_MUXERS = {
    "flac": ("flac", "flac"),
    "opus": ("ogg", "libopus"),
    "aac": ("ipod", "aac"),
    "m4b": ("ipod", "aac"),
    "mp3": ("mp3", "libmp3lame"),
}
_STREAM_MUXERS = {
    "flac": ("flac", "flac"),
    "opus": ("ogg", "libopus"),
    "aac": ("adts", "aac"),
    "m4b": ("adts", "aac"),
}
# An Ogg page is written when it holds this much audio (FFmpeg's default is 1 s): a stream's
# first sound leaves sooner, for about 1 kbps of page headers.
OGG_STREAM_PAGE_US = 200_000
UNKNOWN_SIZE = 0xFFFFFFFF
VORBIS_COMMENTED = ("flac", "opus")  # tags as Vorbis comments; chapters by convention


def wav_header(sample_rate: int, n_samples: int | None = None) -> bytes:
    """The canonical 44-byte header of mono 16-bit PCM; sizes at their maximum where the
    length is not known yet (a stream), which players read as "until the data ends"."""
    data = UNKNOWN_SIZE - 36 if n_samples is None else n_samples * 2
    riff = UNKNOWN_SIZE if n_samples is None else 36 + data
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        *(b"RIFF", riff, b"WAVE", b"fmt ", 16),
        *(1, 1, sample_rate, sample_rate * 2, 2, 16),  # PCM, mono, rate, bytes/s, align, bits
        *(b"data", data),
    )


def pcm_bytes(samples: np.ndarray) -> bytes:
    """Samples as stored and sent raw: s16le."""
    return np.ascontiguousarray(samples, dtype="<i2").tobytes()


class _Sink:
    """What a stream's muxer writes to. It has no seek, so PyAV tells FFmpeg the output cannot
    seek and the muxer never goes back to rewrite a header."""

    def __init__(self):
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class _Muxed:
    """PCM through one of FFmpeg's encoders into one of its muxers, writing to `target`."""

    def __init__(
        self,
        target,
        muxer: str,
        codec: str,
        sample_rate: int,
        kbps: int | None,
        options,
        tags=None,
        codec_options: dict[str, str] | None = None,
    ):
        self.container = av.open(target, "w", format=muxer, options=options)
        self.stream = self.container.add_stream(
            codec, rate=sample_rate, layout="mono", options=codec_options or {}
        )
        if kbps:
            self.stream.bit_rate = kbps * 1000
        if tags is not None:  # before the first packet: the header is written with it
            self.container.metadata.update(ffmpeg_metadata(tags))
            if tags.chapters and muxer == "ipod":  # Vorbis chapters: add_vorbis_chapters
                self.container.set_chapters(ffmpeg_chapters(tags))
        self.sample_rate, self.pts = sample_rate, 0

    def encode(self, samples: np.ndarray) -> None:
        plane = np.ascontiguousarray(samples, dtype=np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(plane, format="s16", layout="mono")
        frame.sample_rate, frame.pts = self.sample_rate, self.pts
        self.pts += samples.size
        self.container.mux(self.stream.encode(frame))

    def finish(self) -> None:
        self.container.mux(self.stream.encode(None))
        self.container.close()

    def abandon(self) -> None:
        """Let go of FFmpeg's encoder and muxer after a failure or a client gone."""
        with suppress(av.FFmpegError):  # already broken: nothing more to release
            self.container.close()


def _lame(sample_rate: int, kbps: int) -> lameenc.Encoder:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(kbps)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_out_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(5)  # LAME's default: see utils/audio/pcm.py encode_mp3
    return encoder


class StreamEncoder:
    """Progressive output of one family: `encode` returns whatever bytes are ready, `finish`
    the rest. The bytes joined are one valid stream (one header, never one per piece).

    `codec` is a family name (mp3, wav, pcm, flac, opus, aac); aac is written as ADTS.
    """

    def __init__(self, codec: str, sample_rate: int, bitrate_kbps: int | None = None):
        if codec not in FAMILIES:
            raise ValueError(f"unknown codec {codec!r}; allowed: {', '.join(FAMILIES)}")
        self.codec, self.sample_rate = codec, sample_rate
        self.content_type = FAMILIES[codec].stream_content_type
        self.extension = FAMILIES[codec].stream_extension
        kbps = bitrate_kbps or DEFAULT_KBPS.get(codec)
        self._sink = _Sink()
        self._lame = _lame(sample_rate, kbps) if codec == "mp3" else None
        self._muxed = None
        if codec in _STREAM_MUXERS:
            muxer, name = _STREAM_MUXERS[codec]
            options = {"flush_packets": "1"}  # each packet to the sink at once, not per 32 kB
            if muxer == "ogg":
                options["page_duration"] = str(OGG_STREAM_PAGE_US)
            codec_options = STREAM_CODEC_OPTIONS.get(codec)
            self._muxed = _Muxed(
                self._sink, muxer, name, sample_rate, kbps, options, codec_options=codec_options
            )
        self._header = wav_header(sample_rate) if codec == "wav" else b""
        self._open = True

    def encode(self, samples: np.ndarray) -> bytes:
        if not self._open:
            raise ValueError("the stream is finished")
        head, self._header = self._header, b""
        if samples.size == 0:
            return head
        if self._lame is not None:
            return head + bytes(self._lame.encode(pcm_bytes(samples)))
        if self._muxed is None:  # pcm, wav
            return head + pcm_bytes(samples)
        self._muxed.encode(samples)
        return self._sink.take()

    def finish(self) -> bytes:
        """The rest of the stream; the encoder is done after it (finishing again gives b"")."""
        if not self._open:
            return b""
        self._open = False
        head, self._header = self._header, b""
        if self._lame is not None:
            return head + bytes(self._lame.flush())
        if self._muxed is not None:
            self._muxed.finish()
        return head + self._sink.take()

    def close(self) -> None:
        """Release the encoder without finishing the stream (its reader went away); nothing
        to do once finished."""
        if self._open and self._muxed is not None:
            self._muxed.abandon()
        self._open = False


def stream_encoder(response_format: str, sample_rate: int | None = None) -> StreamEncoder:
    """A StreamEncoder from a family name and a rate (OpenAI's response_format: mp3, opus,
    aac, flac, wav, pcm, at default bitrates), or from a job's format name (`opus_24000_32`)."""
    if response_format in FAMILIES:
        if sample_rate is None:
            raise ValueError(f"{response_format!r} needs a sample rate")
        return StreamEncoder(response_format, sample_rate)
    fmt = OutputFormat.parse(response_format)
    return StreamEncoder(fmt.family_name, fmt.sample_rate, fmt.bitrate_kbps)


def encode_file(
    fmt: OutputFormat,
    chunks: Iterable[np.ndarray],
    path: Path | BinaryIO,
    tags: FileTags | None = None,
) -> int:
    """Write `chunks` (mono int16 at fmt's rate) as one file of `fmt` with final headers; the
    samples written. `path` may be a seekable binary file instead (a block in memory). `tags`
    (title, author, album, chapters) go where the container has a place for them (not WAV or
    PCM)."""
    family = fmt.family_name
    if family in _MUXERS:
        muxer, codec = _MUXERS[family]
        # The index first, so a player starts before it has the whole file. MP4 only, and only
        # on disk: FFmpeg moves the index by reading the file back, which a Python file cannot.
        on_disk = isinstance(path, Path)
        options = {"movflags": "+faststart"} if muxer == "ipod" and on_disk else {}
        target = str(path) if on_disk else path
        muxed = _Muxed(target, muxer, codec, fmt.sample_rate, fmt.bitrate_kbps, options, tags)
        try:
            for samples in chunks:
                if samples.size:
                    muxed.encode(samples)
            muxed.finish()
        except BaseException:
            muxed.abandon()
            raise
        if tags is not None and tags.chapters and family in VORBIS_COMMENTED and on_disk:
            add_vorbis_chapters(path, tags.chapters)
        if tags is not None and tags.cover is not None and muxer == "ipod" and on_disk:
            add_mp4_cover(path, tags.cover)
        return muxed.pts
    # A caller's file is left open for the caller.
    with open(path, "wb") if isinstance(path, Path) else nullcontext(path) as out:
        return _write_plain(fmt, chunks, out)


def _write_plain(fmt: OutputFormat, chunks: Iterable[np.ndarray], out: BinaryIO) -> int:
    """PCM, and WAV with its sizes written once the length is known."""
    start, n_samples = out.tell(), 0
    if fmt.family_name == "wav":
        out.write(wav_header(fmt.sample_rate, 0))
    for samples in chunks:
        n_samples += samples.size
        out.write(pcm_bytes(samples))
    if fmt.family_name == "wav":
        end = out.tell()
        out.seek(start)
        out.write(wav_header(fmt.sample_rate, n_samples))
        out.seek(end)
    return n_samples


def encode_bytes(fmt: OutputFormat, samples: np.ndarray) -> bytes:
    """One short piece (a block) as a whole file of `fmt`, in memory."""
    buffer = io.BytesIO()
    encode_file(fmt, [samples], buffer)
    return buffer.getvalue()
