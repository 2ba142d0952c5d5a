from __future__ import annotations

from fastapi import APIRouter, Query

from api.deps import CurrentUser, ProvidersDep
from api.schemas.catalog import ProviderOut, VoiceOut
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
