"""OpenAI's speech API: POST /v1/audio/speech, GET /v1/models, GET /v1/audio/voices.

The official openai SDK, and the tools built on it, work against this service by changing
`base_url`. A request becomes a job whose blocks are the input's sentences (grouped into pieces,
utils/text/sentences.py): the workers make them in parallel, under the same account limits,
cache and fair share as any job, and the response streams them in order as each is ready.
"""

from __future__ import annotations

import asyncio
import functools

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.cpu_gate import cpu_work
from api.deps import (
    AsyncRedisDep,
    CurrentUser,
    LexiconsDep,
    ProvidersDep,
    SettingsDep,
    StorageDep,
    SubmitterDep,
)
from api.lexicon_blocks import RequestLexicons
from api.rate_limits import rate_limit, user_or_address
from api.routers.cancel import job_cancellation
from api.routers.catalog import engine_of
from api.schemas.speech import ModelList, ModelOut, SpeechIn, VoiceList, VoiceOut
from api.speech.audio import cancelled_if_left, encoded_audio, first_then_rest, sse_events
from api.speech.formats import SPEECH_FORMATS
from api.speech.targets import (
    SpeechTarget,
    model_names,
    provider_and_model,
    resolve_voice,
    speech_target,
    voice_map,
)
from api.ssml_blocks import Spoken, expand_ssml, ssml_voices
from config import Settings
from utils.accounts.user_accounts import display_name
from utils.errors import FieldError, InvalidRequest, SynthesisFailed, SynthesisTimedOut
from utils.jobs.models import BlockSpec, JobOptions
from utils.lexicons.store import LexiconStore
from utils.text.sentences import pieces, speakable
from utils.text.ssml import looks_like_ssml
from workers.providers import ProviderRegistry

router = APIRouter(prefix="/v1", tags=["openai-compatible"])


def _check_input(body: SpeechIn, settings: Settings) -> None:
    text = body.input
    problem = None
    if len(text) > settings.speech.max_input_chars:
        problem = f"at most {settings.speech.max_input_chars} characters, got {len(text)}"
    elif not speakable(text):
        problem = "has nothing to speak: needs at least one letter or digit"
    if problem:
        raise InvalidRequest([FieldError(("input",), problem)])


def _specs(
    body: SpeechIn,
    target: SpeechTarget,
    owner: str,
    settings: Settings,
    providers: ProviderRegistry,
    lexicons: LexiconStore | None = None,
) -> list[BlockSpec]:
    """The input as blocks: its sentences grouped into pieces; SSML first compiled into
    segments (each on its own voice, rate and volume, its breaks exact pauses)."""
    instructions = body.instructions if target.takes_instructions else None
    if looks_like_ssml(body.input):
        voices = ssml_voices(owner, providers, target.provider)
        spoken, _ = expand_ssml(
            body.input,
            provider=target.provider,
            voice=target.voice,
            speed=body.speed,
            origin=("input",),
            voices=voices,
        )
    else:
        spoken = [Spoken(body.input, target.provider, target.voice, body.speed, 0.0, 0, None)]
    specs = []
    said = None
    if lexicons is not None:
        said = RequestLexicons(lexicons, owner, settings, providers, body.lexicons)
        if problems := said.check_named(("lexicons",)):
            raise InvalidRequest(problems)
    for part in spoken:
        provider = target.provider
        if part.provider != target.provider:
            provider = providers.resolve(owner, part.provider or settings.DEFAULT_PROVIDER)
            if provider is None:
                message = f"SSML names an unknown provider {part.provider!r}"
                raise InvalidRequest([FieldError(("input",), message)])
        voice = part.voice or target.voice
        if (provider, voice) != (target.provider, target.voice):
            voice = resolve_voice(voice, provider, settings, providers, ("input",))
        with cpu_work:  # pysbd: milliseconds a kilobyte
            texts = pieces(part.text, settings.speech.piece_chars, settings.MAX_BLOCK_CHARS)
        for k, text in enumerate(texts):
            spec = BlockSpec(
                text,
                provider,
                voice,
                wait_after_ms=part.wait_after_ms if k == len(texts) - 1 else 0,
                speed=part.speed,
                model=target.model if provider == target.provider else None,
                instructions=instructions if provider == target.provider else None,
                volume_db=part.volume_db,
            )
            if said is not None:
                spec, problems = said.apply(spec, part.lexicons, _at_input, "input")
                if problems:
                    raise InvalidRequest(problems)
            specs.append(spec)
    return specs


def _at_input(field: str, message: str) -> FieldError:
    return FieldError((field,), message)


_AUDIO_TYPES = sorted({f.content_type for f in SPEECH_FORMATS.values()})


@router.post(
    "/audio/speech",
    response_class=StreamingResponse,
    dependencies=[rate_limit("RATE_LIMIT_SUBMIT", user_or_address)],
    responses={
        200: {
            "content": {
                **{t: {} for t in _AUDIO_TYPES},
                "text/event-stream": {},
            },
            "description": "The audio as it is made, or with stream_format=sse, OpenAI's "
            "speech.audio.delta events and a speech.audio.done.",
        }
    },
)
async def create_speech(
    body: SpeechIn,
    request: Request,
    user: CurrentUser,
    settings: SettingsDep,
    providers: ProvidersDep,
    submitter: SubmitterDep,
    aredis: AsyncRedisDep,
    storage: StorageDep,
    lexicons: LexiconsDep,
) -> StreamingResponse:
    """Speech from text, as OpenAI's API makes it; long input is made in parallel and streams
    from its first sentence."""
    _check_input(body, settings)
    voice = body.voice if isinstance(body.voice, str) else body.voice.id
    # listing a provider's voices may wait on its API: off the event loop
    target = await run_in_threadpool(
        speech_target, body.model, voice, user.username, settings, providers
    )
    fmt = SPEECH_FORMATS[body.response_format]
    specs = await run_in_threadpool(
        _specs, body, target, user.username, settings, providers, lexicons
    )
    # the first piece alone first: the first byte waits on it and nothing else
    lead = JobOptions(lead_alone=True)
    job = await run_in_threadpool(
        functools.partial(submitter.submit, options=lead),
        user.username,
        fmt.job_format,
        specs,
        False,
    )
    hold = request.app.state.open_streams.acquire(job.owner)  # 429 past the cap
    audio = encoded_audio(
        aredis, storage, job, body.response_format, settings.JOB_STALL_TIMEOUT, hold
    )
    try:
        first, audio = await asyncio.wait_for(
            first_then_rest(audio), settings.speech.first_piece_timeout_s
        )
    except TimeoutError:
        await audio.aclose()  # its stream place and subscription are given back
        raise SynthesisTimedOut(
            f"no audio within {settings.speech.first_piece_timeout_s} s "
            "(SPEECH_FIRST_PIECE_TIMEOUT_S): are the workers running? The request's job "
            f"{job.id} stays queued"
        ) from None
    if first is None:
        failed = await run_in_threadpool(submitter.jobs.get, job.id)
        reason = failed.error or next((b.error for b in failed.blocks if b.error), None)
        raise SynthesisFailed(f"speech failed: {reason or 'no audio was made'}")
    cancel = functools.partial(job_cancellation(submitter.jobs, submitter, settings).cancel, job.id)
    audio = cancelled_if_left(audio, cancel)  # a client that leaves cancels the job
    headers = {"X-Job-Id": job.id}
    if body.stream_format == "sse":
        return StreamingResponse(
            sse_events(audio, body.input), media_type="text/event-stream", headers=headers
        )
    return StreamingResponse(audio, media_type=fmt.content_type, headers=headers)


@router.get("/models", response_model=ModelList)
def list_models(user: CurrentUser, settings: SettingsDep, providers: ProvidersDep) -> ModelList:
    """Every model a request may name: OpenAI's (the default provider) and each provider."""
    names = model_names(user.username, settings, providers)
    owner = {name: "openai-compatible" for name in names}
    owner.update({name: "service" for name in providers.names()})
    engines = {name: engine_of(providers, name) for name in providers.names()}
    return ModelList(
        data=[
            ModelOut(id=name, owned_by=owner.get(name, "you"), engine=engines.get(name))
            for name in names
        ]
    )


@router.get("/audio/voices", response_model=VoiceList)
def list_voices(
    user: CurrentUser,
    settings: SettingsDep,
    providers: ProvidersDep,
    model: str | None = None,
) -> VoiceList:
    """The voices of a model's provider (the default provider without `model`), and what
    OpenAI's voice names stand for."""
    provider, _ = provider_and_model(model or "tts-1", user.username, settings, providers)
    voices = [
        VoiceOut(id=v.id, name=v.name, provider=display_name(provider))
        for v in providers.get(provider).voices()
    ]
    if model is None:
        listed = {v.id for v in voices}
        voices += [
            VoiceOut(id=name, name=name.title(), provider=display_name(t.provider), maps_to=t.voice)
            for name, t in voice_map(user.username, settings, providers).items()
            if name not in listed
        ]
    return VoiceList(voices=voices)
