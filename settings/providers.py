"""ProviderConfig: one configured TTS account or server, an entry of PROVIDERS.

Provider entries are configuration: a new OpenAI-compatible server is one more entry, not new
code. Users' own accounts (utils/accounts/user_accounts.py) are ProviderConfigs too.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from settings.local_models import LocalEngine, Variant
from settings.piper import VoiceCatalogueSettings
from settings.provider_types import ProviderType

# What an HTTP header value may carry that every server accepts: visible ASCII.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]{1,4096}")


class ProviderConfig(BaseModel):
    """One configured TTS account or server. `type` picks the implementation."""

    type: ProviderType
    # The account's secret (Volcano Engine: the application's access token).
    api_key: SecretStr | None = None
    base_url: str | None = None
    model: str | None = None
    default_voice: str | None = None
    # The provider's own output format, asked of the upstream API (e.g. ElevenLabs "pcm_24000").
    output_format: str | None = None
    # Requests allowed in flight for this account, shared by every worker on every machine;
    # None: no limit (a local engine, bounded by the worker pool itself).
    concurrency: int | None = Field(default=4, ge=1, le=1000)
    timeout_s: float = Field(default=60.0, gt=0)
    # Voices offered where the API cannot list them (OpenAI-compatible servers).
    voices: list[str] | None = None
    voices_cache_ttl_s: float = Field(default=300.0, ge=0)
    # Listing voices (checked at submit) gives up after this long: a slow upstream must not
    # hold up submission.
    voices_timeout_s: float = Field(default=3.0, gt=0)
    # Piper only: extra voices (*.onnx with their .onnx.json) beside the bundled one, and
    # threads per process for the neural network (0: as many as onnxruntime likes).
    voices_dir: Path | None = None
    threads: int = Field(default=1, ge=0)
    # Piper only: the public voice catalogue and where its voices are kept (Settings fills it
    # from PIPER_VOICES_URL and the other PIPER_* settings; an entry may name its own).
    catalogue: VoiceCatalogueSettings | None = None
    # Local engines: the device, the Hub and where derived models are kept (Settings fills it
    # from LOCAL_DEVICE, the HF_* settings and DATA_DIR; an entry may name its own device).
    engine: LocalEngine | None = None
    # Kokoro only: `model` is the Hub repository, at this revision, in this precision (Settings
    # fills them from KOKORO_REPO, KOKORO_REVISION, KOKORO_VARIANT where an entry names none).
    revision: str | None = None
    variant: Variant | None = None
    # Volcano Engine only: the console's APP ID, sent with every request beside the token, and
    # the cluster that serves it (None: "volcano_tts", the standard TTS cluster; cloned voices
    # live on "volcano_icl").
    app_id: str | None = None
    cluster: str | None = None

    @field_validator("api_key")
    @classmethod
    def _key_fits_a_header(cls, value: SecretStr | None) -> SecretStr | None:
        # Every vendor sends the key in an HTTP header, which carries visible ASCII only: any
        # other character would fail every request of the account, so it is refused here. The
        # message never quotes the key.
        if value is not None and not _HEADER_SAFE.fullmatch(value.get_secret_value()):
            raise ValueError(
                "an API key is 1-4096 visible ASCII characters (no spaces, no accents)"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or not value.isascii():
            # not quoted: a URL may carry credentials
            raise ValueError("base_url must be an http:// or https:// URL with a host")
        return value

    @model_validator(mode="after")
    def _volcengine_needs_its_credentials(self) -> ProviderConfig:
        # Refused when settings load, not when the first block reaches a worker.
        if self.type == "volcengine" and not (self.app_id and self.api_key):
            raise ValueError("a volcengine entry needs app_id and api_key (its access token)")
        return self


def default_providers() -> dict[str, ProviderConfig]:
    return {"piper": ProviderConfig(type="piper", concurrency=None)}
