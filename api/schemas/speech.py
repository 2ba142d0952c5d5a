"""OpenAI's speech request, as its API reference defines it, and the lists beside it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.catalog import ModelInfoOut
from api.schemas.common import RequestStr

# OpenAI's names; each maps to one of our formats at 24 kHz (api/speech/formats.py).
ResponseFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
MIN_SPEECH_SPEED, MAX_SPEECH_SPEED = 0.25, 4.0


class VoiceRef(BaseModel):
    """A custom voice given by id (`{"id": "voice_1234"}`), as OpenAI accepts it."""

    model_config = ConfigDict(extra="forbid")
    id: RequestStr


class SpeechIn(BaseModel):
    # Unknown fields are refused, as OpenAI refuses them: a misspelt option must not pass
    # unnoticed.
    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [{"model": "tts-1", "input": "Hello there. How are you?", "voice": "alloy"}]
        },
    )

    model: RequestStr = Field(
        description="tts-1, tts-1-hd or gpt-4o-mini-tts (the default provider), a provider "
        "name from GET /v1/models, or provider/model."
    )
    input: RequestStr = Field(description="The text to speak.")
    voice: RequestStr | VoiceRef = Field(
        description="A voice of the model's provider, or an OpenAI voice name (alloy, nova...) "
        "mapped by SPEECH_VOICES; GET /v1/audio/voices lists them."
    )
    instructions: RequestStr | None = Field(
        default=None, description="Passed to providers that take it; otherwise ignored."
    )
    response_format: ResponseFormat = "mp3"
    speed: float = Field(default=1.0, ge=MIN_SPEECH_SPEED, le=MAX_SPEECH_SPEED)
    stream_format: Literal["audio", "sse"] = "audio"
    lexicons: list[RequestStr] | None = Field(
        default=None,
        description="Pronunciation lexicons of yours (POST /lexicons), by name; not an "
        "OpenAI field.",
    )


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str
    engine: ModelInfoOut | None = Field(
        default=None, description="For a local engine (piper, kokoro): the model it runs."
    )


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class VoiceOut(BaseModel):
    # Two models are named VoiceOut; OpenAPI then names each by its module, and clients
    # generated from the document know them as api__speech__schemas__VoiceOut. Kept as published.
    __module__ = "api.speech.schemas"

    id: str
    name: str
    provider: str
    # For an OpenAI name: the provider's voice it stands for.
    maps_to: str | None = None


class VoiceList(BaseModel):
    voices: list[VoiceOut]
