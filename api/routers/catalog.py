from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Query

from api.deps import CurrentUser, ProvidersDep, SettingsDep
from api.schemas.catalog import (
    AvailableModel,
    AvailableModels,
    EngineModels,
    ModelInfoOut,
    ProviderModel,
    ProviderOut,
    VoiceOut,
)
from utils.errors import ConfigurationError, NotFound, ProviderError
from utils.models.hub import search
from workers.providers import ProviderRegistry

router = APIRouter(prefix="/tts", tags=["catalog"])


@router.get("/providers", response_model=list[ProviderOut])
def list_providers(user: CurrentUser, providers: ProvidersDep) -> list[ProviderOut]:
    out = []
    for name in providers.names():
        provider = providers.get(name)
        out.append(
            ProviderOut(
                name=name,
                type=provider.config.type,
                default_voice=provider.default_voice,
                model=provider.model,
                engine=engine_of(providers, name),
            )
        )
    return out


def engine_of(providers: ProviderRegistry, name: str) -> ModelInfoOut | None:
    info = providers.get(name).model_info()
    return ModelInfoOut(**asdict(info)) if info else None


# Engines whose models the Hub's search can find, by what their repositories are called.
SEARCHABLE_ENGINES = {"kokoro": "kokoro"}


@router.get("/models", response_model=EngineModels)
def list_models(
    user: CurrentUser,
    settings: SettingsDep,
    providers: ProvidersDep,
    available: bool = Query(
        default=False,
        description="Also ask the Hugging Face Hub for models the local engines can run "
        "(says so when the Hub cannot be reached).",
    ),
) -> EngineModels:
    """Each local engine's model: Hub id, revision, precision, size, whether it is on this
    machine, its languages and voice count."""
    models = []
    for name in providers.names():
        info = providers.get(name).model_info()
        if info is not None:
            kind = providers.config(name).type
            models.append(ProviderModel(provider=name, type=kind, **asdict(info)))
    return EngineModels(models=models, available=_available(settings) if available else None)


def _available(settings) -> AvailableModels:
    found = []
    try:
        for engine, query in SEARCHABLE_ENGINES.items():
            found += [
                AvailableModel(engine=engine, **item)
                for item in search(settings.hf.access(), query)
            ]
    except ProviderError as exc:
        return AvailableModels(reachable=False, detail=str(exc))
    return AvailableModels(reachable=True, models=found)


@router.get("/voices/{provider}", response_model=list[VoiceOut])
def list_voices(
    provider: str,
    user: CurrentUser,
    providers: ProvidersDep,
    language: str | None = Query(
        default=None,
        description="Only voices whose language code starts with this: de (de_DE, de_AT, ...) "
        "or de_DE.",
    ),
) -> list[VoiceOut]:
    """The provider's voices. For piper: the installed ones and every voice of the public
    catalogue (`installed: false` ones are fetched on a block's first use), with language,
    quality and speakers."""
    try:
        tts = providers.get(provider)
    except ConfigurationError as exc:
        raise NotFound(str(exc)) from None
    voices = tts.voices()
    if language:
        # de_de, de-DE and de_DE all mean the same language code
        wanted = language.replace("-", "_").lower()
        voices = [v for v in voices if v.language and v.language.lower().startswith(wanted)]
    return [VoiceOut(**vars(voice)) for voice in voices]
