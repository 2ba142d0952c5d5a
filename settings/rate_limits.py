"""RATE_LIMIT_*: requests counted in Redis, so the limits hold across every API process."""

from __future__ import annotations

from pydantic_settings import BaseSettings

from settings.base import group_config


class RateLimitSettings(BaseSettings):
    """Rate limits (api/rate_limits.py); over a limit, 429 with Retry-After."""

    model_config = group_config("RATE_LIMIT_")

    enabled: bool = True
    """Whether requests are counted at all."""
    submit: str = "120/minute"
    """POST /tts and POST /v1/audio/speech, per user."""
    token: str = "10/minute"
    """POST /token, per client address (against password guessing)."""
