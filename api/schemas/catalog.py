"""Response bodies of GET /tts/providers and GET /tts/voices/{provider}."""

from __future__ import annotations

from pydantic import BaseModel, Field


class VoiceOut(BaseModel):
    # Two models are named VoiceOut; OpenAPI then names each by its module, and clients
    # generated from the document know them as api__schemas__VoiceOut. Kept as published.
    __module__ = "api.schemas"

    id: str
    name: str
    language: str | None = Field(default=None, description="Its code, e.g. en_US.")
    description: str | None = None
    # Where the provider knows them (Piper's catalogue); absent otherwise.
    language_name: str | None = Field(default=None, description="In English, e.g. German.")
    quality: str | None = Field(default=None, description="x_low, low, medium or high.")
    speakers: list[str] | None = Field(
        default=None, description="Names a block's `speaker` may give (empty: one speaker)."
    )
    installed: bool | None = Field(
        default=None, description="On this machine already; false: fetched on first use."
    )


class ProviderOut(BaseModel):
    name: str
    type: str
    default_voice: str | None
    model: str | None = None
