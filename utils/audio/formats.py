"""The job's output formats: mono MP3 at constant bitrate, named like `mp3_24000_64`.

The one home of which rates and bitrates are allowed; the API quotes them, workers encode to
them, the combine stitches frames of one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Rates where an MPEG frame is short enough that the silence added at a zero pause stays under
# 80 ms (encoder delay + frame padding, see utils/audio/timeline.py); 16 kHz and below would
# exceed it.
SAMPLE_RATES = (22050, 24000, 44100, 48000)
MPEG2_BITRATES = (32, 48, 64, 96, 128)  # kbps allowed at 22.05 and 24 kHz
MPEG1_BITRATES = (64, 96, 128, 192)  # kbps allowed at 44.1 and 48 kHz
_FORMAT_RE = re.compile(r"^mp3_(\d+)_(\d+)$")


@dataclass(frozen=True)
class OutputFormat:
    """A job's output: mono MP3, constant bitrate, named like `mp3_24000_64`."""

    sample_rate: int
    bitrate_kbps: int

    @property
    def name(self) -> str:
        return f"mp3_{self.sample_rate}_{self.bitrate_kbps}"

    @property
    def samples_per_frame(self) -> int:
        # MPEG-1 Layer III frames carry 1152 samples; MPEG-2 (below 32 kHz) carry 576.
        return 1152 if self.sample_rate >= 32000 else 576

    @classmethod
    def parse(cls, name: str) -> OutputFormat:
        match = _FORMAT_RE.match(name)
        fmt = cls(int(match.group(1)), int(match.group(2))) if match else None
        if fmt is None or fmt.name not in output_format_names():
            raise ValueError(f"unknown output format {name!r}")
        return fmt


def output_format_names() -> list[str]:
    names = [f"mp3_{rate}_{kbps}" for rate in SAMPLE_RATES[:2] for kbps in MPEG2_BITRATES]
    names += [f"mp3_{rate}_{kbps}" for rate in SAMPLE_RATES[2:] for kbps in MPEG1_BITRATES]
    return names
