from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError

from api.deps import (
    CurrentUser,
    JobsDep,
    LexiconsDep,
    ProvidersDep,
    SettingsDep,
    StorageDep,
    SubmitterDep,
)
from api.rate_limits import rate_limit, user_or_address
from api.schemas.jobs import JobAccepted, JobRetried, UncheckedJob
from api.schemas.status import (
    BlockLoudnessOut,
    BlockStatusOut,
    JobListOut,
    JobStatusOut,
    JobSummaryOut,
    LoudnessOut,
)
from api.schemas.webhooks import WebhookStatusOut
from api.urls import signed_audio_url
from api.validation import ValidJob, validate_job
from config import Settings
from utils.accounts.user_accounts import display_name
from utils.jobs.covers import store_cover
from utils.jobs.listing import MAX_OFFSET, BadCursor, JobListing
from utils.jobs.models import BlockRecord, JobRecord
from utils.jobs.store import JobStore
from utils.jobs.submit import JobSubmitter
from utils.storage.base import Storage
from utils.webhooks.deliveries import Deliveries

router = APIRouter(tags=["jobs"])


@router.post(
    "/tts",
    response_model=JobAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[rate_limit("RATE_LIMIT_SUBMIT", user_or_address)],
)
def submit_job(
    body: Annotated[UncheckedJob, Body()],
    request: Request,
    response: Response,
    user: CurrentUser,
    settings: SettingsDep,
    providers: ProvidersDep,
    submitter: SubmitterDep,
    lexicons: LexiconsDep,
    storage: StorageDep,
) -> JobAccepted:
    """Accept a job of ordered text blocks; poll GET /status/{job_id} for its progress."""
    valid = validate_job(body, user.username, settings, providers, lexicons)
    return accept(valid, request, response, user.username, settings, submitter, storage)


def accept(
    valid: ValidJob,
    request: Request,
    response: Response,
    owner: str,
    settings: Settings,
    submitter: JobSubmitter,
    storage: Storage,
) -> JobAccepted:
    """Submit a checked job (its cover stored first, under the job's id) and answer 202."""
    job_id = str(uuid.uuid4())
    if valid.cover is not None:  # before the job exists: its combine may start at once
        store_cover(storage, job_id, valid.cover)
    # the base links in the job's webhook event start with (as in GET /result)
    links_base = settings.PUBLIC_BASE_URL.rstrip("/") or str(request.base_url).rstrip("/")
    job = submitter.submit(
        owner,
        valid.output_format,
        valid.blocks,
        valid.combine,
        options=valid.options,
        callback_url=valid.callback_url,
        links_base=links_base,
        job_id=job_id,
    )
    response.headers["Location"] = f"/status/{job.id}"
    stream_url, _ = signed_audio_url(request, settings, job.id, stream=True)
    return JobAccepted(job_id=job.id, status=job.status.value, stream_url=stream_url)


@router.post("/tts/{job_id}/retry", response_model=JobRetried, status_code=status.HTTP_202_ACCEPTED)
def retry_job(
    job_id: uuid.UUID,
    request: Request,
    response: Response,
    user: CurrentUser,
    jobs: JobsDep,
    submitter: SubmitterDep,
    settings: SettingsDep,
) -> JobRetried:
    """Re-run the blocks of a failed job that did not finish; finished blocks are reused."""
    job = jobs.get(str(job_id), owner=user.username)
    indices = submitter.retry(job)
    response.headers["Location"] = f"/status/{job.id}"
    stream_url, _ = signed_audio_url(request, settings, job.id, stream=True)
    return JobRetried(job_id=job.id, status="queued", stream_url=stream_url, retried_blocks=indices)


@router.get("/status/{job_id}", response_model=JobStatusOut, response_model_exclude_none=True)
def job_status(job_id: uuid.UUID, user: CurrentUser, jobs: JobsDep) -> JobStatusOut:
    job = jobs.get(str(job_id), owner=user.username)
    return status_of(job, webhook_status(jobs, job))


def webhook_status(jobs: JobStore, job: JobRecord) -> WebhookStatusOut | None:
    """The delivery of the job's webhook; before an outcome, its URL and no attempts."""
    if not job.callback_url:
        return None
    found = Deliveries(jobs.redis).status(job.id)
    if found is None:
        return WebhookStatusOut(url=job.callback_url, attempts=[], delivered=False)
    return WebhookStatusOut(**found)


def status_of(job: JobRecord, webhook: WebhookStatusOut | None = None) -> JobStatusOut:
    return JobStatusOut(
        job_id=job.id,
        status=job.status.value,
        progress=f"{job.done_count}/{job.n_blocks}",
        output_format=job.output_format,
        blocks=[
            BlockStatusOut(
                index=b.index,
                id=b.spec.client_id,
                status=b.status.value,
                provider=display_name(b.spec.provider),
                voice=b.spec.voice,
                attempts=b.attempts,
                worker=b.worker,
                cached=b.cached,
                duration_ms=b.duration_ms,
                error=b.error,
                chapter=b.spec.chapter,
                loudness=block_loudness(b),
            )
            for b in job.blocks
        ],
        created_at=job.created_at,
        updated_at=job.updated_at,
        error=job.error,
        webhook=webhook,
        loudness=loudness_target(job),
    )


def block_loudness(block: BlockRecord) -> BlockLoudnessOut | None:
    leveled = block.leveled
    if leveled is None:
        return None
    return BlockLoudnessOut(
        before_lufs=leveled.before_lufs,
        after_lufs=leveled.after_lufs,
        gain_db=leveled.gain_db,
        true_peak_db=leveled.true_peak_db,
    )


def loudness_target(job: JobRecord) -> LoudnessOut | None:
    target = job.options.loudness
    return target and LoudnessOut(
        integrated_lufs=target.integrated_lufs, true_peak_db=target.true_peak_db
    )


@router.get("/jobs", response_model=JobListOut, response_model_exclude_none=True)
def list_jobs(
    user: CurrentUser,
    jobs: JobsDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Jobs per page.")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page.")
    ] = None,
    offset: Annotated[
        int | None, Query(ge=0, le=MAX_OFFSET, description="Jobs to skip (or a cursor).")
    ] = None,
) -> JobListOut:
    """Your jobs that have not expired, newest first, a page at a time."""
    if cursor is not None and offset is not None:
        raise _query_error("offset", "give cursor or offset, not both")
    try:
        page = JobListing(jobs).page(user.username, limit, cursor, offset)
    except BadCursor as exc:
        raise _query_error("cursor", str(exc)) from None
    return JobListOut(
        jobs=[
            JobSummaryOut(
                job_id=j.id,
                status=j.status,
                progress=j.progress,
                n_blocks=j.n_blocks,
                output_format=j.output_format,
                created_at=j.created_at,
                updated_at=j.updated_at,
                error=j.error,
                title=j.title,
                preview=j.preview,
            )
            for j in page.jobs
        ],
        next_cursor=page.next_cursor,
        next_offset=page.next_offset,
    )


def _query_error(name: str, message: str) -> RequestValidationError:
    """A 422 in the API's one shape (api/errors.py), naming the query parameter."""
    return RequestValidationError([{"loc": ("query", name), "msg": message, "type": "value_error"}])
