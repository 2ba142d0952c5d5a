"""WYOMING_*: the Wyoming server for Home Assistant (api/wyoming/, `python -m api.wyoming`).

Wyoming has no authentication: the server listens on loopback unless WYOMING_HOST says
otherwise (and logs a warning when it does), and every request it takes counts as the one user
WYOMING_USER: that user's rate limit, stream cap and fair share, and its own provider accounts.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, NoDecode

from settings.base import group_config
from settings.parsing import comma_or_json_list

TextList = Annotated[list[str], NoDecode, BeforeValidator(comma_or_json_list)]


class WyomingSettings(BaseSettings):
    """The Wyoming server (Home Assistant's protocol for local voice services)."""

    model_config = group_config("WYOMING_")

    enabled: bool = True
    """Whether `make run` starts the Wyoming server."""
    host: str = "127.0.0.1"
    """Where it listens. Wyoming has no authentication: beyond loopback, anyone who reaches
    the port speaks as WYOMING_USER (a warning is logged at start)."""
    port: int = Field(default=10200, ge=1, le=65535)
    """Its TCP port (10200: what Home Assistant's Wyoming integration suggests for TTS)."""
    user: str = Field(default="wyoming", min_length=1)
    """The user its requests count as: rate limit, stream cap, fair share, own accounts."""
    voice: str = ""
    """The voice of a request that names none: a voice of the default provider, or
    provider/voice; empty: the default provider's default voice."""
    sample_rate: Literal[8000, 16000, 22050, 24000, 44100, 48000] = 22050
    """The rate of the PCM it sends (16-bit mono); 22050 is Piper's own."""
    samples_per_chunk: int = Field(default=1024, ge=64, le=48000)
    """Samples in one audio-chunk event."""
    max_text_chars: int = Field(default=4096, ge=1)
    """The longest text of one synthesize, or of one stream (synthesize-start to -stop)."""
    idle_timeout_s: float = Field(default=60.0, gt=0)
    """A connection that sends nothing this long while no audio is going out is closed."""
    write_timeout_s: float = Field(default=30.0, gt=0)
    """A client that reads none of the audio sent for this long is closed."""
    info_ttl_s: float = Field(default=60.0, ge=0)
    """How long the voice list of `describe` is reused before it is asked for again."""
    unknown_languages: TextList = ["en"]
    """Languages listed for a voice whose provider does not say (OpenAI's voices speak many):
    Home Assistant offers a voice only under the languages listed."""
