"""Every family encoded and decoded back with PyAV: the rate, a true duration, samples where
they were put; streams that are one valid file however they were cut."""

from __future__ import annotations

import io
import struct

import av
import numpy as np
import pytest

from tests.audio_helpers import tone
from utils.audio.encoders import StreamEncoder, encode_bytes, encode_file, stream_encoder
from utils.audio.formats import OutputFormat, output_format_names

RATE = 24000
FILE_FORMATS = ["wav_24000", "flac_24000", "opus_24000_32", "aac_24000_64", "mp3_24000_64"]
STREAMED = ["pcm", "wav", "flac", "opus", "aac", "mp3"]


def signal(rate: int = RATE) -> np.ndarray:
    """0.5 s of silence, 1 s of tone, 0.7 s of silence, 0.3 s of tone (onsets to find)."""
    quiet = np.zeros(rate // 2, dtype=np.int16)
    return np.concatenate(
        [quiet, tone(1.0, rate), np.zeros(int(0.7 * rate), np.int16), tone(0.3, rate)]
    )


def decoded(data: bytes) -> tuple[np.ndarray, int, av.container.InputContainer]:
    """Mono int16 samples, their rate, and the container (for its duration)."""
    container = av.open(io.BytesIO(data))
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="s16", layout="mono", rate=stream.sample_rate)
    pieces = [
        frame.to_ndarray().reshape(-1)
        for packet_frame in container.decode(stream)
        for frame in resampler.resample(packet_frame)
    ]
    return np.concatenate(pieces), stream.sample_rate, container


def onsets(samples: np.ndarray, rate: int) -> list[float]:
    """Seconds where sound starts after at least 0.2 s of silence."""
    loud = np.abs(samples.astype(np.int32)) > 2000
    found, quiet_run = [], rate  # the start counts as after silence
    for index in np.flatnonzero(np.diff(loud.astype(np.int8)) == 1) + 1:
        previous = np.flatnonzero(loud[:index])
        quiet_run = index - (previous[-1] if previous.size else -rate)
        if quiet_run > 0.2 * rate:
            found.append(index / rate)
    return found


@pytest.mark.parametrize("name", FILE_FORMATS)
def test_a_file_decodes_to_its_samples_at_their_places(tmp_path, name):
    fmt = OutputFormat.parse(name)
    pcm = signal()
    path = tmp_path / f"out.{fmt.extension}"
    pieces = [pcm[i : i + 5000] for i in range(0, pcm.size, 5000)]
    assert encode_file(fmt, iter(pieces), path) == pcm.size
    samples, rate, container = decoded(path.read_bytes())
    frame = fmt.samples_per_frame * rate / fmt.sample_rate
    # What a player (or ffprobe) reports is the length of the PCM, within a codec frame.
    assert abs(container.duration / 1e6 - pcm.size / RATE) <= frame / rate
    assert abs(samples.size - pcm.size * rate / RATE) <= frame
    assert onsets(samples, rate) == pytest.approx([0.5, 2.2], abs=0.003)
    if fmt.family_name in ("wav", "flac", "aac"):
        assert rate == RATE
    if fmt.family_name == "opus":
        assert rate == 48000  # Opus always decodes at 48 kHz; its header keeps the input rate
    if fmt.family_name in ("wav", "flac"):
        assert np.array_equal(samples, pcm)  # lossless


def test_wav_headers_are_exact_in_a_file():
    data = encode_bytes(OutputFormat.parse("wav_16000"), tone(0.25, 16000))
    assert data[:4] == b"RIFF" and struct.unpack("<I", data[4:8])[0] == len(data) - 8
    assert data[36:40] == b"data" and struct.unpack("<I", data[40:44])[0] == 4000 * 2
    assert len(data) == 44 + 8000


def test_pcm_is_the_samples_alone():
    pcm = tone(0.1, RATE)
    assert encode_bytes(OutputFormat.parse("pcm_24000"), pcm) == pcm.astype("<i2").tobytes()


@pytest.mark.parametrize("codec", STREAMED)
def test_a_stream_cut_anywhere_is_one_valid_stream(codec):
    pcm = signal()
    encoder = stream_encoder(codec, RATE)
    parts = [encoder.encode(pcm[i : i + 3333]) for i in range(0, pcm.size, 3333)]
    parts.append(encoder.finish())
    data = b"".join(parts)
    assert sum(1 for p in parts if p) > 3  # bytes came out as the audio went in
    if codec == "pcm":
        assert data == pcm.astype("<i2").tobytes()
        return
    if codec == "wav":
        assert data.count(b"RIFF") == 1 and data.count(b"WAVEfmt ") == 1  # one header
        assert data[4:8] == b"\xff\xff\xff\xff"  # the size of a stream: unknown
        assert np.array_equal(np.frombuffer(data[44:], "<i2"), pcm)
    samples, rate, container = decoded(data)
    assert (
        container.format.name.split(",")[0]
        in {
            "wav": "wav",
            "flac": "flac",
            "opus": "ogg",
            "aac": "aac",
            "mp3": "mp3",
        }[codec]
    )
    # Everything decodes (ADTS and MP3 keep their encoder's lead-in: at most two frames more).
    assert 0 <= samples.size - pcm.size * rate / RATE <= 2 * 1152 * rate / RATE
    if codec in ("wav", "flac", "opus"):
        assert onsets(samples, rate) == pytest.approx([0.5, 2.2], abs=0.003)


def test_the_factory_takes_openai_names_and_job_formats():
    assert stream_encoder("opus", 24000).content_type == "audio/ogg"
    aac = stream_encoder("aac_24000_96")
    assert (aac.content_type, aac.extension, aac.sample_rate) == ("audio/aac", "aac", 24000)
    assert stream_encoder("pcm", 24000).content_type == "application/octet-stream"
    with pytest.raises(ValueError, match="unknown output format 'ogg_1'"):
        stream_encoder("ogg_1")
    with pytest.raises(ValueError, match="unknown codec"):
        StreamEncoder("vorbis", 24000)


def test_a_long_file_is_encoded_from_pieces_in_flat_memory(tmp_path):
    """Ten minutes of audio pass through in pieces; nothing holds them all."""
    import tracemalloc

    piece = signal()
    tracemalloc.start()
    encode_file(OutputFormat.parse("flac_24000"), (piece for _ in range(200)), tmp_path / "a.flac")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5 * piece.nbytes  # 10 minutes of PCM would be 28.8 MB


def test_every_allowed_format_encodes_to_its_rate_and_length():
    for name in output_format_names():
        fmt = OutputFormat.parse(name)
        pcm = tone(0.3, fmt.sample_rate)
        data = encode_bytes(fmt, pcm)
        if fmt.family_name == "pcm":
            assert len(data) == pcm.size * 2
            continue
        samples, rate, container = decoded(data)
        assert rate == (48000 if fmt.family_name == "opus" else fmt.sample_rate), name
        frame_s = fmt.samples_per_frame / fmt.sample_rate
        assert abs(container.duration / 1e6 - 0.3) <= frame_s, name


def test_an_abandoned_stream_releases_its_encoder():
    encoder = stream_encoder("opus", RATE)
    assert encoder.encode(signal()[:4800]) is not None
    encoder.close()
    assert encoder.finish() == b""
    with pytest.raises(ValueError, match="finished"):
        encoder.encode(signal()[:10])


def test_a_streamed_opus_trades_encoder_effort_not_its_sound():
    # streams run libopus at a lower complexity than files (STREAM_CODEC_OPTIONS): the same
    # samples must still come back as the same sound
    samples = signal()
    encoder = stream_encoder("opus", RATE)
    assert encoder._muxed.stream.codec_context.options == {"compression_level": "6"}
    streamed, rate, _ = decoded(encoder.encode(samples) + encoder.finish())
    filed, _, _ = decoded(encode_bytes(OutputFormat.parse("opus_24000_32"), samples))
    n = min(streamed.size, filed.size)
    assert abs(streamed.size - filed.size) < rate // 50  # a frame at most
    assert np.corrcoef(streamed[:n].astype(float), filed[:n].astype(float))[0, 1] > 0.98
    assert onsets(streamed, rate) == pytest.approx(onsets(filed, rate), abs=0.005)
