"""Who is speaking and with what: the key of a connection (ours: an API key or a token), its
place among the user's open streams, and the provider and voice its voice_id and model_id name.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket

from api.deps import get_current_user
from api.realtime.protocol import POLICY, TRY_LATER, ProtocolError
from api.speech.targets import SpeechTarget, speech_target
from api.streaming import StreamHold
from config import Settings
from utils.errors import ConfigurationError, FieldError, InvalidRequest, RateLimited
from workers.providers import ProviderRegistry


def header_key(websocket: WebSocket) -> str | None:
    """The key from the upgrade request: `xi-api-key`, or `Authorization: Bearer`."""
    if key := websocket.headers.get("xi-api-key"):
        return key.strip()
    scheme, _, credential = websocket.headers.get("authorization", "").partition(" ")
    return credential.strip() if scheme.lower() == "bearer" and credential.strip() else None


def _user_of(key: str, state) -> str | None:
    try:
        return get_current_user(key, state.settings, state.users, state.api_keys).username
    except HTTPException:
        return None


async def user_of(key: str | None, state) -> str:
    """The key's user; ProtocolError where there is none (Redis is read off the event loop)."""
    user = await run_in_threadpool(_user_of, key, state) if key else None
    if user is None:
        raise ProtocolError(
            "missing, invalid or expired key: give an API key (tts_sk_...) or a token as the "
            "xi-api-key header, Authorization: Bearer, or xi_api_key in the first message",
            "invalid_api_key",
        )
    return user


async def stream_place(user: str, state) -> StreamHold:
    try:
        return await run_in_threadpool(state.open_streams.acquire, user)
    except RateLimited as exc:
        raise ProtocolError(str(exc), "too_many_concurrent_requests", TRY_LATER) from None


def _target(
    voice_id: str, model_id: str | None, owner: str, settings: Settings, providers: ProviderRegistry
) -> SpeechTarget:
    provider, _, voice = voice_id.rpartition("/")
    if model_id and providers.resolve(owner, model_id.partition("/")[0]):
        model = model_id  # a configured provider (or provider/model)
    else:  # none, or one of ElevenLabs' model names: the voice's provider, else the default
        model = provider or settings.DEFAULT_PROVIDER
        resolved = providers.resolve(owner, model)
        if model_id and resolved and providers.config(resolved).type == "elevenlabs":
            model = f"{model}/{model_id}"  # an ElevenLabs account takes ElevenLabs' models
    if provider and providers.resolve(owner, provider) != providers.resolve(
        owner, model.partition("/")[0]
    ):
        raise ProtocolError(
            f"voice_id names provider {provider!r} but model_id names {model_id!r}",
            "invalid_voice",
        )
    return speech_target(model, voice, owner, settings, providers)


async def target_of(voice_id: str, model_id: str | None, owner: str, state) -> SpeechTarget:
    try:
        return await run_in_threadpool(
            _target, voice_id, model_id, owner, state.settings, state.providers
        )
    except InvalidRequest as exc:
        messages = "; ".join(e.message for e in exc.errors)
        kind = "invalid_voice" if any(e.loc == ("voice",) for e in exc.errors) else "invalid_model"
        raise ProtocolError(messages, kind, POLICY) from None
    except ConfigurationError as exc:
        raise ProtocolError(str(exc), "invalid_model", POLICY) from None


def lexicons_of(state, owner: str, named: tuple[str, ...]):
    """How the connection's blocks are said: its lexicons (named in the opening) and the
    operator's, applied as a job's are (api/lexicon_blocks.py); None where none apply.
    ProtocolError naming a lexicon that is not the user's."""
    from api.lexicon_blocks import RequestLexicons

    lexicons = RequestLexicons(state.lexicons, owner, state.settings, state.providers, named)
    if problems := lexicons.check_named(("pronunciation_dictionary_locators",)):
        raise ProtocolError(problems[0].message, "invalid_pronunciation_dictionary")
    if not named and not lexicons.operator:
        return None

    def say(spec):
        spec, problems = lexicons.apply(
            spec, (), lambda field, message: FieldError((field,), message)
        )
        return spec, [problem.message for problem in problems]

    return say
