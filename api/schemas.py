"""Request and response bodies of the HTTP API.

The limits a request must keep are enforced by api/validation.py, which names every problem
at once; the published schema quotes the same limits from the app's settings (quote_limits).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from config import Settings

MIN_SPEED, MAX_SPEED = 0.5, 2.0


class BlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="What to say.")
    provider: str | None = Field(default=None, description="A name from GET /tts/providers.")
    voice: str | None = Field(
        default=None, description="A voice id from GET /tts/voices/{provider}."
    )
    wait_after_ms: int = Field(default=0, description="Silence after this block, in ms.")
    speed: float = Field(default=1.0, description="Speaking rate.")


class JobIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "blocks": [
                        {"text": "Chapter one.", "wait_after_ms": 700},
                        {"text": "It was a bright cold day in April.", "wait_after_ms": 300},
                    ],
                    "output_format": "mp3_24000_64",
                }
            ]
        },
    )

    blocks: list[BlockIn]
    output_format: str | None = Field(default=None, description="e.g. mp3_24000_64.")


class JobAccepted(BaseModel):
    job_id: str
    status: str


class JobRetried(JobAccepted):
    retried_blocks: list[int]


class BlockStatusOut(BaseModel):
    index: int
    status: str
    provider: str
    voice: str
    attempts: int
    cached: bool = False
    duration_ms: int | None = None
    error: str | None = None


class JobStatusOut(BaseModel):
    job_id: str
    status: str
    progress: str
    output_format: str
    blocks: list[BlockStatusOut]
    created_at: str
    updated_at: str
    error: str | None = None


class BlockResultOut(BaseModel):
    index: int
    url: str
    start_ms: int
    end_ms: int
    duration_ms: int


class JobResultOut(BaseModel):
    job_id: str
    status: str
    output_format: str
    url: str
    duration_ms: int
    blocks: list[BlockResultOut]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class VoiceOut(BaseModel):
    id: str
    name: str
    language: str | None = None
    description: str | None = None


class ProviderOut(BaseModel):
    name: str
    type: str
    default_voice: str | None
    model: str | None = None


def quote_limits(openapi: dict, settings: Settings) -> dict:
    """The OpenAPI document with the limits this server enforces, read from its settings."""
    schemas = openapi.get("components", {}).get("schemas", {})
    limits = [
        ("BlockIn", "text", {"maxLength": settings.MAX_BLOCK_CHARS}),
        ("BlockIn", "wait_after_ms", {"minimum": 0, "maximum": settings.MAX_PAUSE_MS}),
        ("BlockIn", "speed", {"minimum": MIN_SPEED, "maximum": MAX_SPEED}),
        ("JobIn", "blocks", {"minItems": 1, "maxItems": settings.MAX_BLOCKS}),
    ]
    for model, name, bounds in limits:
        properties = schemas.get(model, {}).get("properties", {})
        if name in properties:
            properties[name].update(bounds)
            quoted = ", ".join(f"{k} {v}" for k, v in bounds.items())
            properties[name]["description"] = (
                f"{properties[name].get('description', '')} ({quoted})".strip()
            )
    return openapi


class AccountIn(BaseModel):
    """A provider account of your own: your key, your server, your limit."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="How your blocks name it (as their provider); 1-64 of A-Z a-z 0-9 _ . -",
    )
    type: Literal["openai", "elevenlabs", "volcengine"] = Field(description="The provider's API.")
    api_key: SecretStr = Field(description="Stored encrypted; never shown again.")
    base_url: str | None = Field(default=None, description="Another server speaking that API.")
    app_id: str | None = Field(default=None, description="Volcano Engine: the app's id.")
    cluster: str | None = Field(default=None, description="Volcano Engine: the cluster.")
    model: str | None = None
    default_voice: str | None = None
    voices: list[str] | None = Field(
        default=None, description="Voices offered, where the API cannot list them."
    )
    concurrency: int = Field(
        default=4, ge=1, le=1000, description="Requests the account allows in flight."
    )
    timeout_s: float = Field(default=60.0, gt=0, le=600)


class AccountOut(BaseModel):
    name: str
    type: str
    base_url: str | None = None
    app_id: str | None = None
    cluster: str | None = None
    model: str | None = None
    default_voice: str | None = None
    voices: list[str] | None = None
    concurrency: int | None = None
    timeout_s: float
    has_api_key: bool
    created_at: str
