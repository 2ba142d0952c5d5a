"""HF_*: the Hugging Face Hub, where local engines' models come from (utils/models/hub.py).

The names are huggingface_hub's own (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, HF_HUB_CACHE ...),
with the meaning its documentation gives them, so a machine already set up for the Hub needs
nothing new. They are read here, as every other setting is, and handed to the fetcher as a
HubAccess, rather than left to the library's import-time globals: a test or a provider entry
can then point one engine at a mirror without touching the process's environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings

from settings.base import group_config
from settings.parsing import OptionalSecret

DEFAULT_ENDPOINT = "https://huggingface.co"


class HubAccess(BaseModel):
    """How a local engine reaches the Hub (filled from the HF_* settings, so a provider is
    built from its entry alone, as Piper's from its catalogue settings)."""

    endpoint: str = DEFAULT_ENDPOINT
    token: SecretStr | None = None
    offline: bool = False
    cache_dir: Path | None = None  # None: huggingface_hub's own (HF_HOME/hub)
    etag_timeout_s: float = Field(default=10.0, gt=0)
    download_timeout_s: float = Field(default=60.0, gt=0)


class HubSettings(BaseSettings):
    """The Hugging Face Hub: mirror, token, offline mode and cache of model files."""

    model_config = group_config("HF_")

    endpoint: str = DEFAULT_ENDPOINT
    """The Hub, or a mirror laid out the same way (HF_ENDPOINT, as huggingface_hub reads it)."""
    token: OptionalSecret = None
    """A Hub token, for gated or private model repositories; never logged."""
    hub_offline: bool = False
    """Never ask the Hub: only models already in the cache are used (HF_HUB_OFFLINE)."""
    hub_cache: Path | None = None
    """Where model files are kept, shared by every process of the machine; unset:
    huggingface_hub's default (HF_HOME/hub, ~/.cache/huggingface/hub)."""
    hub_etag_timeout: float = Field(default=10.0, gt=0)
    """Seconds to ask the Hub which revision a name points at before a download."""
    hub_download_timeout: float = Field(default=60.0, gt=0)
    """Seconds a model download may stall before it fails."""

    def access(self) -> HubAccess:
        """What each local engine's entry is given (config.Settings fills it in)."""
        return HubAccess(
            endpoint=self.endpoint.rstrip("/"),
            token=self.token,
            offline=self.hub_offline,
            cache_dir=self.hub_cache,
            etag_timeout_s=self.hub_etag_timeout,
            download_timeout_s=self.hub_download_timeout,
        )
