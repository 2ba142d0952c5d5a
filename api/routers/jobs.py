from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, Request, Response, status
from kombu.exceptions import KombuError
from redis import RedisError
from slowapi import Limiter

from api.deps import CacheDep, CeleryDep, CurrentUser, JobsDep, ProvidersDep, SettingsDep
from api.rate_limits import user_or_address
from api.validation import validate_job
from config import Settings
from utils.audio_cache import content_digest, fill_from_cache
from utils.errors import NotReady, Unavailable
from utils.jobs import JobRecord, JobStatus
from utils.schemas import BlockStatusOut, JobAccepted, JobIn, JobRetried, JobStatusOut
from workers.celery_app import COMBINE_BLOCKS, DISPATCH_BLOCKS

log = logging.getLogger(__name__)


def build_router(limiter: Limiter, settings: Settings) -> APIRouter:
    """POST /tts (limited per user by the app's own limiter) and POST /tts/{job_id}/retry."""
    router = APIRouter(tags=["jobs"])
    accepted = {"methods": ["POST"], "status_code": status.HTTP_202_ACCEPTED}
    limited = limiter.limit(settings.RATE_LIMIT_SUBMIT, key_func=user_or_address)(submit_job)
    router.add_api_route("/tts", limited, response_model=JobAccepted, **accepted)
    router.add_api_route("/tts/{job_id}/retry", retry_job, response_model=JobRetried, **accepted)
    router.add_api_route(
        "/status/{job_id}",
        job_status,
        response_model=JobStatusOut,
        response_model_exclude_none=True,
    )
    return router


def submit_job(
    request: Request,
    body: JobIn,
    response: Response,
    user: CurrentUser,
    settings: SettingsDep,
    jobs: JobsDep,
    providers: ProvidersDep,
    celery: CeleryDep,
    cache: CacheDep,
) -> JobAccepted:
    """Accept a job of ordered text blocks; poll GET /status/{job_id} for its progress."""
    output_format, specs = validate_job(body, settings, providers)
    job_id = str(uuid.uuid4())
    job = jobs.create(job_id, user.username, output_format, specs)
    pending, all_cached = list(range(len(specs))), False
    if cache:
        digests = [content_digest(providers.get(s.provider), s, output_format) for s in specs]
        pending, all_cached = fill_from_cache(cache, jobs, job, digests)
    try:
        # every block cached: straight to the combine; else a worker fans the rest out
        enqueue(celery, job_id, COMBINE_BLOCKS if all_cached else DISPATCH_BLOCKS, pending)
    except Unavailable:
        jobs.delete(job_id, len(specs))  # nothing half-queued stays behind
        raise
    response.headers["Location"] = f"/status/{job_id}"
    return JobAccepted(job_id=job_id, status="queued")


def enqueue(celery, job_id: str, task: str, indices: list[int]) -> None:
    """One message whatever the job's size: a dispatch task that a worker fans out into block
    tasks (given the indices), or the combine."""
    args = [job_id, list(indices)] if task == DISPATCH_BLOCKS else [job_id]
    try:
        celery.send_task(task, args=args)
    except (KombuError, RedisError, OSError) as exc:
        log.error("could not queue job %s: %s", job_id, type(exc).__name__)
        raise Unavailable("the job queue is unavailable; nothing was queued") from exc


def retry_job(
    job_id: uuid.UUID, response: Response, user: CurrentUser, jobs: JobsDep, celery: CeleryDep
) -> JobRetried:
    """Re-run the blocks of a failed job that did not finish; finished blocks are reused."""
    job = jobs.get(str(job_id), owner=user.username)
    if job.status != JobStatus.FAILED:
        raise NotReady(
            f"only a failed job can be retried; job {job.id} is {job.status.value}",
            job.status.value,
        )
    indices = jobs.reset_for_retry(job)
    # every block already made (the combine is what failed): only the combine runs again
    enqueue(celery, job.id, DISPATCH_BLOCKS if indices else COMBINE_BLOCKS, indices)
    response.headers["Location"] = f"/status/{job.id}"
    return JobRetried(job_id=job.id, status="queued", retried_blocks=indices)


def status_of(job: JobRecord) -> JobStatusOut:
    return JobStatusOut(
        job_id=job.id,
        status=job.status.value,
        progress=f"{job.done_count}/{job.n_blocks}",
        output_format=job.output_format,
        blocks=[
            BlockStatusOut(
                index=b.index,
                status=b.status.value,
                provider=b.spec.provider,
                voice=b.spec.voice,
                attempts=b.attempts,
                cached=b.cached,
                duration_ms=b.duration_ms,
                error=b.error,
            )
            for b in job.blocks
        ],
        created_at=job.created_at,
        updated_at=job.updated_at,
        error=job.error,
    )


def job_status(job_id: uuid.UUID, user: CurrentUser, jobs: JobsDep) -> JobStatusOut:
    return status_of(jobs.get(str(job_id), owner=user.username))
