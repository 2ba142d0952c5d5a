"""What a speech request runs on: its `model` as a provider (and model), its `voice` as one of
that provider's voices.

`tts-1`, `tts-1-hd` and `gpt-4o-mini-tts` stand for the default provider (and are passed on as
the model where that provider is OpenAI-type), so tools that hard-code them work offline. OpenAI's
voice names map through SPEECH_VOICES, else to the provider's default voice, for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from config import Settings
from utils.accounts.upstream_access import SubmitChecks
from utils.errors import ConfigurationError, FieldError, InvalidRequest, ProviderError
from workers.providers import ProviderRegistry
from workers.providers.openai_names import OPENAI_MODELS, OPENAI_VOICES

SHOWN = 20


@dataclass(frozen=True)
class SpeechTarget:
    provider: str  # as the registry knows it (a user's own account is qualified)
    voice: str
    model: str | None  # for providers that take one; None: the account's configured model
    takes_instructions: bool


def _refuse(field: str, message: str) -> InvalidRequest:
    return InvalidRequest([FieldError((field,), message)])


def _listed(values: list[str]) -> str:
    more = f" (and {len(values) - SHOWN} more)" if len(values) > SHOWN else ""
    return ", ".join(values[:SHOWN]) + more


def model_names(owner: str, settings: Settings, providers: ProviderRegistry) -> list[str]:
    """Every `model` a request of `owner` may give (provider/model forms aside)."""
    return [*OPENAI_MODELS, *providers.names_for(owner)]


def provider_and_model(
    model: str, owner: str, settings: Settings, providers: ProviderRegistry
) -> tuple[str, str | None]:
    if model in OPENAI_MODELS:
        default = settings.DEFAULT_PROVIDER
        return default, model if providers.get(default).takes_model else None
    name, _, sub_model = model.partition("/")
    provider = providers.resolve(owner, name)
    if provider is None:
        allowed = _listed(model_names(owner, settings, providers))
        raise _refuse("model", f"unknown model {model!r}; allowed: {allowed}, or provider/model")
    if sub_model and not providers.get(provider).takes_model:
        raise _refuse(
            "model",
            f"provider {name!r} takes no model of its own; give model {name!r} alone",
        )
    return provider, sub_model or None


def _voices_of(provider_name: str, providers: ProviderRegistry) -> list[str]:
    try:
        return providers.get(provider_name).voice_ids()
    except (ProviderError, ConfigurationError):
        return []  # cannot list them now: the provider judges the voice when it runs


def resolve_voice(
    voice: str,
    provider_name: str,
    settings: Settings,
    providers: ProviderRegistry,
    field: tuple[str, ...] = ("voice",),
) -> str:
    known = _voices_of(provider_name, providers)
    if not known or voice in known:
        return voice
    mapped = settings.speech.voices.get(voice)
    if mapped is not None and "/" not in mapped:
        return mapped
    if voice in OPENAI_VOICES:
        return providers.get(provider_name).default_voice
    raise InvalidRequest(
        [
            FieldError(
                field,
                f"unknown voice {voice!r}; allowed: {_listed(known)}, or an OpenAI voice name "
                f"({', '.join(OPENAI_VOICES)})",
            )
        ]
    )


def speech_target(
    model: str, voice: str, owner: str, settings: Settings, providers: ProviderRegistry
) -> SpeechTarget:
    provider_name, sub_model = provider_and_model(model, owner, settings, providers)
    mapped = settings.speech.voices.get(voice, "")
    if model in OPENAI_MODELS and "/" in mapped:
        # an OpenAI voice name mapped to another provider's voice: tools naming tts-1 and
        # "nova" reach that provider
        mapped_provider, _, voice = mapped.partition("/")
        provider_name = providers.resolve(owner, mapped_provider) or provider_name
        sub_model = None
    if refused := SubmitChecks(providers).problem(provider_name):  # base_url's address
        raise _refuse("model", refused)
    return SpeechTarget(
        provider=provider_name,
        voice=resolve_voice(voice, provider_name, settings, providers),
        model=sub_model,
        takes_instructions=providers.get(provider_name).takes_instructions,
    )


def voice_map(
    owner: str, settings: Settings, providers: ProviderRegistry
) -> dict[str, SpeechTarget]:
    """What each OpenAI voice name stands for with model tts-1."""
    return {
        name: speech_target("tts-1", name, owner, settings, providers) for name in OPENAI_VOICES
    }
