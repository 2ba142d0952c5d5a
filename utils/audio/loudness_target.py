"""A job's loudness target and a block's measured loudness: what is stored and shown.

Apart from utils/audio/loudness.py (which measures and levels, with pyloudnorm and scipy) so
the API and the job records read them without loading either.
"""

from __future__ import annotations

from dataclasses import dataclass

PRESETS: dict[str, tuple[float, float]] = {
    "podcast": (-16.0, -1.0),  # Apple Podcasts, Spotify: -16 LUFS, -1 dBTP
    "audiobook": (-19.0, -3.0),  # ACX-like: RMS -23..-18 dB, peaks under -3 dB
    "broadcast": (-23.0, -1.0),  # EBU R 128
}
# Targets allowed. Louder than -10 LUFS, speech (whose peaks stand 15-20 dB over its loudness)
# would be limited so hard that it could not reach the target without audible distortion.
LUFS_RANGE = (-40.0, -10.0)
PEAK_RANGE = (-12.0, 0.0)  # ceilings allowed, dBTP


@dataclass(frozen=True)
class LoudnessTarget:
    """Where each block is brought: integrated loudness (LUFS) and true-peak ceiling (dBTP)."""

    integrated_lufs: float
    true_peak_db: float = -1.0

    @property
    def identity(self) -> str:
        """What the audio cache key holds of it."""
        return f"{self.integrated_lufs:.2f}/{self.true_peak_db:.2f}"

    def to_fields(self) -> dict[str, str]:
        """As stored on the job's hash (utils/jobs/store.py)."""
        return {"loudness_lufs": str(self.integrated_lufs), "true_peak_db": str(self.true_peak_db)}

    @classmethod
    def from_fields(cls, raw: dict[str, str]) -> LoudnessTarget | None:
        if not raw.get("loudness_lufs"):
            return None
        return cls(float(raw["loudness_lufs"]), float(raw.get("true_peak_db") or -1.0))


def describe_presets() -> str:
    presets = PRESETS.items()
    return ", ".join(f"{name} ({lufs:g} LUFS, {peak:g} dBTP)" for name, (lufs, peak) in presets)


LEVELED_FIELDS = ("lufs_before", "lufs_after", "gain_db", "true_peak_after")


@dataclass(frozen=True)
class Leveled:
    """A block's loudness before and after, and the gain it was given."""

    before_lufs: float | None  # None: silence (nothing to measure)
    after_lufs: float | None
    gain_db: float
    true_peak_db: float | None  # after

    def to_fields(self) -> dict[str, str]:
        def text(value: float | None) -> str:
            return "" if value is None else f"{value:.2f}"

        return {
            "lufs_before": text(self.before_lufs),
            "lufs_after": text(self.after_lufs),
            "gain_db": text(self.gain_db),
            "true_peak_after": text(self.true_peak_db),
        }

    @classmethod
    def from_fields(cls, raw: dict[str, str]) -> Leveled | None:
        """As stored on the block's hash; None for a block that was not leveled."""
        if "gain_db" not in raw:
            return None

        def number(name: str) -> float | None:
            return float(raw[name]) if raw.get(name) else None

        return cls(
            number("lufs_before"),
            number("lufs_after"),
            number("gain_db") or 0.0,
            number("true_peak_after"),
        )
