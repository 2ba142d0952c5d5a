from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, ProvidersDep
from api.schemas import ProviderOut, VoiceOut
from utils.errors import ConfigurationError, NotFound

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
            )
        )
    return out


@router.get("/voices/{provider}", response_model=list[VoiceOut])
def list_voices(provider: str, user: CurrentUser, providers: ProvidersDep) -> list[VoiceOut]:
    try:
        tts = providers.get(provider)
    except ConfigurationError as exc:
        raise NotFound(str(exc)) from None
    return [VoiceOut(**vars(voice)) for voice in tts.voices()]
