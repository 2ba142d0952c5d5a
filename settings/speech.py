"""SPEECH_*: the OpenAI-compatible speech endpoint (POST /v1/audio/speech).

Its input is cut at sentences into pieces of about SPEECH_PIECE_CHARS, made in parallel like a
job's blocks.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from settings.base import group_config


class SpeechSettings(BaseSettings):
    """The OpenAI-compatible speech endpoint."""

    model_config = group_config("SPEECH_")

    max_input_chars: int = Field(default=4096, ge=1)
    """The longest input accepted."""
    piece_chars: int = Field(default=300, ge=1)
    """About how long a piece of the input is, cut at sentences."""
    voices: dict[str, str] = Field(default_factory=dict)
    """OpenAI voice names (alloy, nova, ...) to voices of the default provider, or to
    "provider/voice" (JSON); a name not listed here nor known to the provider is its default
    voice."""
    first_piece_timeout_s: float = Field(default=120.0, gt=0)
    """How long a response waits for its first piece, then answers 504 (no worker took it): a
    client never hangs on a service without workers."""
