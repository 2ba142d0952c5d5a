"""GET /tts/voices/{provider}/{voice}/preview: a short sample of a voice, for choosing one
(utils/projects/previews.py): made once per provider and voice, then served from storage."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, ProvidersDep, SettingsDep, StorageDep, SubmitterDep
from utils.errors import NotFound
from utils.projects.previews import (
    POLL_S,
    finished_preview,
    past,
    preview_key,
    start_preview,
    stored_preview,
    wait_deadline,
)
from workers.providers import ProviderRegistry

router = APIRouter(prefix="/tts", tags=["catalog"])


def _provider_and_key(
    providers: ProviderRegistry, owner: str, provider: str, voice: str, text: str
) -> tuple[str, str]:
    """The provider's resolved name and the preview's storage key; NotFound for an unknown
    provider or a voice it does not have."""
    name = providers.resolve(owner, provider)
    if name is None:
        known = ", ".join(providers.names_for(owner))
        raise NotFound(f"unknown provider {provider!r}; known providers: {known}")
    tts = providers.get(name)
    if voice not in {v.id for v in tts.voices()}:
        raise NotFound(
            f"provider {provider!r} has no voice {voice!r}: GET /tts/voices/{provider} "
            "lists its voices"
        )
    return name, preview_key(tts, voice, text)


@router.get(
    "/voices/{provider}/{voice}/preview",
    response_class=Response,
    responses={
        200: {"content": {"audio/mpeg": {}}, "description": "The voice saying one sentence."},
        404: {"description": "An unknown provider, or a voice it does not have."},
    },
)
async def voice_preview(
    provider: str,
    voice: str,
    user: CurrentUser,
    settings: SettingsDep,
    providers: ProvidersDep,
    submitter: SubmitterDep,
    storage: StorageDep,
) -> Response:
    """The voice saying PROJECT_PREVIEW_TEXT (MP3): made by the workers the first time (the
    answer waits for it), from storage after that. X-Preview says which."""
    text = settings.projects.preview_text
    # listing voices may wait on the provider's API, reading storage on disk or network
    name, key = await run_in_threadpool(
        _provider_and_key, providers, user.username, provider, voice, text
    )
    data = await run_in_threadpool(stored_preview, storage, key)
    made = "stored"
    if data is None:
        made = "made"
        job = await run_in_threadpool(start_preview, submitter, user.username, name, voice, text)
        timeout_s = settings.projects.preview_timeout_s
        deadline = wait_deadline(timeout_s)
        while data is None:
            past(deadline, timeout_s)
            await asyncio.sleep(POLL_S)
            data = await run_in_threadpool(finished_preview, submitter, storage, job.id, key)
    headers = {"Cache-Control": "private, max-age=86400", "X-Preview": made}
    return Response(data, media_type="audio/mpeg", headers=headers)
