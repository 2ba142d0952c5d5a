"""PIPER_*: the public Piper voice catalogue, and what a Piper entry carries of it.

The catalogue is rhasspy/piper-voices, or any mirror laid out the same way (voices.json at its
root, each file at the path voices.json names). A block naming one of its voices fetches it on
first use into PIPER_VOICE_DIR, shared by every worker process of the machine;
`python -m scripts.fetch_voices` fetches ahead of time, for machines without internet and for
container images.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings

from settings.base import group_config


class VoiceCatalogueSettings(BaseModel):
    """Where a Piper entry finds the voices it does not have (filled from the PIPER_* settings,
    so a provider is built from its entry alone, as storage backends from StorageSettings)."""

    url: str
    directory: Path
    max_loaded: int = Field(default=4, ge=1)
    timeout_s: float = Field(default=3.0, gt=0)
    max_age_s: float = Field(default=86400.0, ge=0)
    download_timeout_s: float = Field(default=60.0, gt=0)


class PiperSettings(BaseSettings):
    """The Piper voice catalogue and where its voices are kept."""

    model_config = group_config("PIPER_")

    voices_url: str = "https://huggingface.co/rhasspy/piper-voices/resolve/main"
    """The voice catalogue: rhasspy/piper-voices, or a mirror laid out the same way."""
    voice_dir: Path | None = None
    """Where fetched voices are kept, shared by the machine's workers; unset: DATA_DIR/voices."""
    max_loaded_voices: int = Field(default=4, ge=1)
    """Voices kept loaded per process (about 60-100 MB each); past it the least recently used
    is unloaded."""
    catalogue_timeout_s: float = Field(default=3.0, gt=0)
    """Seconds to read voices.json (at submit: past it only installed voices are accepted) and
    to connect for a download."""
    download_timeout_s: float = Field(default=60.0, gt=0)
    """Seconds a download may stall before it fails."""
    catalogue_max_age_s: int = Field(default=24 * 3600, ge=0)
    """Seconds after which the on-disk copy of voices.json is read again from the catalogue (a
    stale copy is still used while the catalogue cannot be reached)."""

    def catalogue(self, data_dir: Path) -> VoiceCatalogueSettings:
        """What each Piper entry of PROVIDERS is given (config.Settings fills it in)."""
        return VoiceCatalogueSettings(
            url=self.voices_url.rstrip("/"),
            directory=self.voice_dir or data_dir / "voices",
            max_loaded=self.max_loaded_voices,
            timeout_s=self.catalogue_timeout_s,
            max_age_s=self.catalogue_max_age_s,
            download_timeout_s=self.download_timeout_s,
        )
