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
    gender: str | None = Field(default=None, description="female or male, where known.")


class ModelInfoOut(BaseModel):
    """A local engine's model."""

    id: str = Field(description="Its Hugging Face repository, or where the engine gets it.")
    revision: str | None = None
    variant: str | None = Field(default=None, description="float32, float16 or int8.")
    size_bytes: int | None = Field(default=None, description="What loading it fetches.")
    installed: bool = Field(description="On this machine already; false: fetched on first use.")
    languages: list[str] = []
    voice_count: int = 0


class ProviderOut(BaseModel):
    name: str
    type: str
    default_voice: str | None
    model: str | None = None
    engine: ModelInfoOut | None = Field(
        default=None, description="The model a local engine runs (piper, kokoro)."
    )


class AvailableModel(BaseModel):
    """A model of the Hub an engine of this service can run."""

    id: str
    engine: str
    downloads: int | None = None
    likes: int | None = None
    last_modified: str | None = None


class AvailableModels(BaseModel):
    """GET /tts/models?available=true: what the Hub offers, or why it could not be asked."""

    reachable: bool
    detail: str | None = None
    models: list[AvailableModel] = []


class ProviderModel(ModelInfoOut):
    provider: str
    type: str


class EngineModels(BaseModel):
    """GET /tts/models: each local engine's model; with ?available=true, the Hub's too."""

    models: list[ProviderModel]
    available: AvailableModels | None = None
