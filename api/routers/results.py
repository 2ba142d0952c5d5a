from __future__ import annotations

import os
import uuid

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from api.byte_ranges import serve_handle
from api.deps import (
    AsyncRedisDep,
    AudioOwner,
    CurrentUser,
    JobsDep,
    ProvidersDep,
    SettingsDep,
    StorageDep,
)
from api.docs import describe_audio_formats
from api.routers.jobs import block_loudness, loudness_target
from api.schemas.results import BlockResultOut, ChapterOut, JobResultOut
from api.streaming import stream_blocks
from api.urls import api_url, audio_url, signed_audio_url
from api.zips import write_blocks_zip
from utils.audio.formats import FAMILIES, OutputFormat
from utils.audio.tags import Chapter, job_tags
from utils.clock import iso_of
from utils.errors import ConfigurationError, NotFound, NotReady, ObjectNotFound
from utils.jobs.models import JobRecord, JobStatus
from utils.names import job_key
from utils.storage.base import Storage
from workers.providers import ProviderRegistry

router = APIRouter(prefix="/result", tags=["results"])


def _languages(job: JobRecord, providers: ProviderRegistry) -> list[str | None]:
    """Each block's language, from its voice where the provider knows it without the network
    (Piper: the catalogue's language code); None otherwise."""
    known: dict[tuple[str, str], str | None] = {}
    for block in job.blocks:
        voice = (block.spec.provider, block.spec.voice)
        if voice not in known:
            try:
                known[voice] = providers.get(voice[0]).language_of(voice[1])
            except ConfigurationError:
                known[voice] = None  # an account deleted since: its blocks are made
    return [known[(b.spec.provider, b.spec.voice)] for b in job.blocks]


def _require_completed(job: JobRecord) -> JobRecord:
    if job.status != JobStatus.COMPLETED:
        raise NotReady(f"job {job.id} is {job.status.value}, not completed", job.status.value)
    return job


@router.get("/{job_id}", response_model=JobResultOut)
def job_result(
    job_id: uuid.UUID,
    request: Request,
    user: CurrentUser,
    jobs: JobsDep,
    storage: StorageDep,
    settings: SettingsDep,
    providers: ProvidersDep,
) -> JobResultOut:
    """Where the final audio and each block are, and where each block sits in the final audio;
    `signed_url` fetches the final audio with no token (an <audio> src, a link to share)."""
    job = _require_completed(jobs.get(str(job_id), owner=user.username))
    url = signed_url = expires_at = None
    if job.combine:
        url = audio_url(request, settings, storage, job.storage_key, "final_audio", job_id=job.id)
        signed_url, link = signed_audio_url(request, settings, job.id)
        expires_at = iso_of(link.expires_at)
    languages = _languages(job, providers)
    return JobResultOut(
        job_id=job.id,
        status=job.status.value,
        output_format=job.output_format,
        combined=job.combine,
        url=url,
        signed_url=signed_url,
        signed_url_expires_at=expires_at,
        zip_url=api_url(request, settings, "blocks_zip", job_id=job.id),
        duration_ms=job.duration_ms,
        blocks=[
            BlockResultOut(
                index=b.index,
                id=b.spec.client_id,
                url=audio_url(
                    request,
                    settings,
                    storage,
                    b.storage_key,
                    "block_audio",
                    job_id=job.id,
                    index=b.index,
                ),
                start_ms=b.start_ms,
                end_ms=b.end_ms,
                duration_ms=b.duration_ms,
                language=language,
                chapter=b.spec.chapter,
                loudness=block_loudness(b),
            )
            for b, language in zip(job.blocks, languages, strict=True)
        ],
        title=job.options.title,
        author=job.options.author,
        album=job.options.album,
        loudness=loudness_target(job),
        chapters=[ChapterOut(**vars(c)) for c in _chapters(job)],
    )


def _chapters(job: JobRecord) -> list[Chapter]:
    """Where the chapters run in the combined file: from the blocks' places, as the combine
    wrote them into the file's tags."""
    if not job.combine:
        return []
    starts = [b.start_ms for b in job.blocks]
    return job_tags(job, starts, job.duration_ms).chapters


def _headers_only(headers: dict[str, str], media_type: str) -> Response:
    """A HEAD answer: GET's headers, no body, and no Content-Length unless GET has one."""
    response = Response(media_type=media_type, headers=headers)
    if "Content-Length" not in headers:
        del response.headers["content-length"]  # not 0: the audio is not empty
    return response


def _serve(
    storage: Storage,
    key: str,
    filename: str,
    what: str,
    head: bool,
    media_type: str,
    range_header: str | None = None,
) -> Response:
    headers = {"Content-Disposition": f'inline; filename="{filename}"'}
    path = storage.local_path(key)
    if path is not None:
        # FileResponse answers Range requests, so browsers can seek, and HEAD without a body.
        return FileResponse(
            path, media_type=media_type, filename=filename, content_disposition_type="inline"
        )
    try:
        handle = storage.open(key)
    except ObjectNotFound:
        raise NotFound(f"{what} is no longer stored (purged); submit the job again") from None
    if head:
        headers["Content-Length"] = str(handle.seek(0, os.SEEK_END))
        handle.close()
        return _headers_only({**headers, "Accept-Ranges": "bytes"}, media_type)
    # a handle that is not a local file (S3) still seeks: Range is answered from it
    return serve_handle(handle, range_header, headers, media_type)


_TYPES = {t for f in FAMILIES.values() for t in (f.content_type, f.stream_content_type)}
AUDIO = {
    "response_class": Response,
    "responses": {
        200: {
            "description": "The audio in the job's output format, with its content type: "
            f"{describe_audio_formats()}.",
            "content": {t: {} for t in _TYPES},
        }
    },
}


# HEAD as well as GET: media players and CDNs ask HEAD first. Two routes, not one with two
# methods, so each has an operation id of its own in the schema.
@router.get("/{job_id}/audio", name="final_audio", **AUDIO)
@router.head("/{job_id}/audio", name="final_audio_head", **AUDIO)
def final_audio(
    job_id: uuid.UUID,
    request: Request,
    aredis: AsyncRedisDep,
    owner: AudioOwner,
    jobs: JobsDep,
    storage: StorageDep,
    settings: SettingsDep,
    stream: bool = Query(
        default=False,
        description="Start sending as soon as block 0 is ready, block by block, in order, "
        "while the job runs (no Range support while streaming). aac_* jobs stream as ADTS "
        "(audio/aac, .aac), since their MP4 file can only be written whole.",
    ),
) -> Response:
    """The final audio in the job's output format, with that format's content type (MP3 as
    audio/mpeg, WAV as audio/wav, ...: see the 200 response); Range requests are answered. With
    stream=true, the audio as it is made. A bearer token, or a signed link's exp and sig (from
    GET /result, POST /tts), grants it."""
    head = request.method == "HEAD"
    job = jobs.get(str(job_id), owner=owner, with_blocks=False)
    family = OutputFormat.parse(job.output_format).family
    finished = job.status == JobStatus.COMPLETED
    # A finished job's stream is its file, except where the file's container cannot stream.
    if stream and (not finished or (job.combine and not family.streams_as_file)):
        if job.status == JobStatus.FAILED:
            raise NotReady(f"job {job.id} failed: {job.error}", job.status.value)
        if job.status == JobStatus.CANCELLED:
            raise NotReady(f"job {job.id} was cancelled", job.status.value)
        if finished:
            _require_stored(storage, job)
        headers = {
            "Content-Disposition": f'inline; filename="tts-{job.id}.{family.stream_extension}"',
            "Cache-Control": "no-store",
        }
        if head:
            return _headers_only(headers, family.stream_content_type)
        # counted against the job owner's streams, whether asked with a token or a signed link
        hold = request.app.state.open_streams.acquire(job.owner)  # 429 past the cap
        chunks = stream_blocks(
            aredis, storage, job, give_up_s=settings.JOB_STALL_TIMEOUT, hold=hold
        )
        return StreamingResponse(chunks, media_type=family.stream_content_type, headers=headers)
    _require_completed(job)
    if not job.combine:
        raise NotFound(
            f"job {job.id} has no combined file (it was submitted with combine: false); "
            f"its blocks are at /result/{job.id}/blocks.zip"
        )
    return _serve(
        storage,
        job.storage_key,
        f"tts-{job.id}.{family.extension}",
        f"the audio of job {job.id}",
        head,
        family.content_type,
        request.headers.get("range"),
    )


def _require_stored(storage: Storage, job: JobRecord) -> None:
    """404 before a stream of a finished job starts, if its audio was purged (the blocks'
    PCM goes with the final file: same folder, same age)."""
    try:
        storage.open(job.storage_key).close()
    except ObjectNotFound:
        raise NotFound(
            f"the audio of job {job.id} is no longer stored (purged); submit the job again"
        ) from None


@router.get(
    "/{job_id}/blocks.zip",
    name="blocks_zip",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
def blocks_zip(
    job_id: uuid.UUID, user: CurrentUser, jobs: JobsDep, storage: StorageDep, settings: SettingsDep
) -> FileResponse:
    """Every block's audio of a completed job in one zip, named `0000-<your id>.mp3` in order
    (the extension is the job's format's)."""
    job = _require_completed(jobs.get(str(job_id), owner=user.username))
    path = write_blocks_zip(job, storage, settings.TEMP_DIR)
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"tts-{job.id}-blocks.zip",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.get("/{job_id}/block/{index}/audio", name="block_audio", **AUDIO)
@router.head("/{job_id}/block/{index}/audio", name="block_audio_head", **AUDIO)
def block_audio(
    job_id: uuid.UUID,
    request: Request,
    user: CurrentUser,
    jobs: JobsDep,
    storage: StorageDep,
    index: int = Path(ge=0, description="Block index, from 0"),
) -> Response:
    """One block's audio in the job's output format, with that format's content type (see the
    200 response), as soon as that block is done (the job need not be)."""
    job = jobs.get(str(job_id), owner=user.username, with_blocks=False)
    family = OutputFormat.parse(job.output_format).family
    if index >= job.n_blocks:
        raise NotFound(f"job {job.id} has no block {index} (blocks 0..{job.n_blocks - 1})")
    _, block = jobs.get_with_block(job.id, index)
    if block.storage_key is None:
        raise NotReady(f"block {index} is {block.status.value}", block.status.value)
    try:
        return _serve(
            storage,
            block.storage_key,
            f"tts-{job.id}-block-{index:04d}.{family.extension}",
            f"the audio of block {index} of job {job.id}",
            request.method == "HEAD",
            family.content_type,
            request.headers.get("range"),
        )
    except NotFound:
        if jobs.redis.hget(job_key(job.id), "purged"):
            raise
        # never purged: it was stored where this API cannot read (a worker on other storage)
        raise NotFound(
            f"the audio of block {index} of job {job.id} is not in this service's storage: "
            f"it was made by worker {block.worker or 'unknown'}, which did not store it there; "
            f"POST /tts/{job.id}/retry makes it again once the job has failed"
        ) from None
