"""The job's output formats, in families: `mp3_24000_64`, `wav_24000`, `pcm_24000`,
`flac_24000`, `opus_24000_32`, `aac_24000_64`, `m4b_24000_64` (an audiobook: AAC in MP4 with
chapters).

The one home of which rates and bitrates each family allows, its content type, file extension
and whether it can be streamed; the API quotes them, workers encode to them, the combine writes
them (MP3 by stitching frames, every other family by encoding the PCM timeline once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# MP3: rates where an MPEG frame is short enough that the silence added at a zero pause stays
# under 80 ms (encoder delay + frame padding, see utils/audio/timeline.py); 16 kHz and below
# would exceed it.
SAMPLE_RATES = (22050, 24000, 44100, 48000)
MPEG2_BITRATES = (32, 48, 64, 96, 128)  # kbps allowed at 22.05 and 24 kHz
MPEG1_BITRATES = (64, 96, 128, 192)  # kbps allowed at 44.1 and 48 kHz
# Lossless families carry any rate a provider or a telephone line speaks at.
PLAIN_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
# Opus encodes at 8, 12, 16, 24 and 48 kHz only; 8 and 12 kHz are narrowband for telephony,
# below what any provider here returns. 24 to 32 kbps is already transparent for speech.
OPUS_RATES = (16000, 24000, 48000)
OPUS_BITRATES = (24, 32, 48, 64, 96)
AAC_BITRATES = (64, 96, 128)  # FFmpeg's AAC-LC encoder is poor below 64 kbps mono


@dataclass(frozen=True)
class Family:
    """What every format of one codec and container shares."""

    name: str
    bitrates: dict[int, tuple[int, ...]] | None  # allowed kbps by rate; None: rate alone
    rates: tuple[int, ...]
    content_type: str
    extension: str
    # A stream=true response is written progressively while the job runs. Where the file's
    # container cannot be (MP4 writes its index last), the stream is another container of the
    # same codec, with its own type and extension.
    stream_content_type: str
    stream_extension: str
    codec_frame: int  # samples per codec frame at the format's rate (1 where there is none)

    @property
    def streams_as_file(self) -> bool:
        """A finished job's stream may be the stored file itself."""
        return self.stream_content_type == self.content_type


def _bitrates(rates: tuple[int, ...], kbps: tuple[int, ...]) -> dict[int, tuple[int, ...]]:
    return {rate: kbps for rate in rates}


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            "mp3",
            _bitrates(SAMPLE_RATES[:2], MPEG2_BITRATES)
            | _bitrates(SAMPLE_RATES[2:], MPEG1_BITRATES),
            SAMPLE_RATES,
            "audio/mpeg",
            "mp3",
            "audio/mpeg",
            "mp3",
            1152,  # 576 below 32 kHz: OutputFormat.samples_per_frame
        ),
        Family("wav", None, PLAIN_RATES, "audio/wav", "wav", "audio/wav", "wav", 1),
        # No registered type fits headerless little-endian PCM (audio/L16 is big-endian, per
        # RFC 2586), and nothing plays it from its type alone; the format name carries the rate.
        Family(
            "pcm", None, PLAIN_RATES, "application/octet-stream", "pcm",
            "application/octet-stream", "pcm", 1,
        ),
        Family("flac", None, PLAIN_RATES, "audio/flac", "flac", "audio/flac", "flac", 4608),
        # Ogg pages are written as they fill, so the file streams as it is.
        Family(
            "opus", _bitrates(OPUS_RATES, OPUS_BITRATES), OPUS_RATES, "audio/ogg", "opus",
            "audio/ogg", "opus", 960,
        ),
        # AAC-LC in MP4 (.m4a), which players seek in; streamed as ADTS (what OpenAI's speech
        # API returns for aac), since MP4 can only be written whole.
        Family(
            "aac", _bitrates(SAMPLE_RATES, AAC_BITRATES), SAMPLE_RATES, "audio/mp4", "m4a",
            "audio/aac", "aac", 1024,
        ),
        # The same AAC in MP4, named for audiobook players (which read its chapter marks); it
        # streams as ADTS like aac.
        Family(
            "m4b", _bitrates(SAMPLE_RATES, AAC_BITRATES), SAMPLE_RATES, "audio/mp4", "m4b",
            "audio/aac", "aac", 1024,
        ),
    )
}  # fmt: skip
_FORMAT_RE = re.compile(r"^([a-z0-9]+)_(\d+)(?:_(\d+))?$")


@dataclass(frozen=True)
class OutputFormat:
    """A job's output: mono, one family, one rate, and for lossy families a bitrate."""

    sample_rate: int
    bitrate_kbps: int | None = None
    family_name: str = "mp3"

    @property
    def family(self) -> Family:
        return FAMILIES[self.family_name]

    @property
    def name(self) -> str:
        kbps = f"_{self.bitrate_kbps}" if self.bitrate_kbps is not None else ""
        return f"{self.family_name}_{self.sample_rate}{kbps}"

    @property
    def is_mp3(self) -> bool:
        """Blocks stored as bare MP3 frames and stitched without decoding (the fast path)."""
        return self.family_name == "mp3"

    @property
    def content_type(self) -> str:
        return self.family.content_type

    @property
    def extension(self) -> str:
        return self.family.extension

    @property
    def samples_per_frame(self) -> int:
        if self.is_mp3:
            # MPEG-1 Layer III frames carry 1152 samples; MPEG-2 (below 32 kHz) carry 576.
            return 1152 if self.sample_rate >= 32000 else 576
        if self.family_name == "opus":
            return self.sample_rate // 50  # 20 ms, libopus's default frame
        return self.family.codec_frame

    @classmethod
    def parse(cls, name: str) -> OutputFormat:
        match = _FORMAT_RE.match(name)
        fmt = None
        if match and match.group(1) in FAMILIES:
            kbps = int(match.group(3)) if match.group(3) else None
            fmt = cls(int(match.group(2)), kbps, match.group(1))
        if fmt is None or not _allowed(fmt):
            raise ValueError(f"unknown output format {name!r}")
        return fmt


def _allowed(fmt: OutputFormat) -> bool:
    family = fmt.family
    if fmt.sample_rate not in family.rates:
        return False
    if family.bitrates is None:
        return fmt.bitrate_kbps is None
    return fmt.bitrate_kbps in family.bitrates[fmt.sample_rate]


def output_format_names() -> list[str]:
    names = []
    for family in FAMILIES.values():
        for rate in family.rates:
            if family.bitrates is None:
                names.append(f"{family.name}_{rate}")
            else:
                names += [f"{family.name}_{rate}_{kbps}" for kbps in family.bitrates[rate]]
    return names


def describe_output_formats() -> str:
    """The allowed names by family, short enough to read in an error message:
    `mp3_{rate}_{kbps} (22050, 24000 Hz at 32, 48, ... kbps; ...); wav_{rate} (...)`."""
    parts = []
    for family in FAMILIES.values():
        if family.bitrates is None:
            rates = ", ".join(map(str, family.rates))
            parts.append(f"{family.name}_{{rate}} ({rates} Hz)")
            continue
        by_kbps: dict[tuple[int, ...], list[int]] = {}
        for rate in family.rates:
            by_kbps.setdefault(family.bitrates[rate], []).append(rate)
        groups = [
            f"{', '.join(map(str, rates))} Hz at {', '.join(map(str, kbps))} kbps"
            for kbps, rates in by_kbps.items()
        ]
        parts.append(f"{family.name}_{{rate}}_{{kbps}} ({'; '.join(groups)})")
    return "; ".join(parts)
