from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from api.deps import CurrentUser, JobsDep, ProvidersDep, SettingsDep, SubmitterDep
from api.rate_limits import rate_limit, user_or_address
from api.schemas import (
    BlockLoudnessOut,
    BlockStatusOut,
    JobAccepted,
    JobIn,
    JobRetried,
    JobStatusOut,
    LoudnessOut,
)
from api.urls import signed_audio_url
from api.validation import job_options, validate_job
from utils.accounts.user_accounts import display_name
from utils.jobs.models import BlockRecord, JobRecord

router = APIRouter(tags=["jobs"])


@router.post(
    "/tts",
    response_model=JobAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[rate_limit("RATE_LIMIT_SUBMIT", user_or_address)],
)
def submit_job(
    body: JobIn,
    request: Request,
    response: Response,
    user: CurrentUser,
    settings: SettingsDep,
    providers: ProvidersDep,
    submitter: SubmitterDep,
) -> JobAccepted:
    """Accept a job of ordered text blocks; poll GET /status/{job_id} for its progress."""
    output_format, specs = validate_job(body, user.username, settings, providers)
    options, _ = job_options(body)  # valid: validate_job checked them
    job = submitter.submit(user.username, output_format, specs, body.combine, options)
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
    return status_of(jobs.get(str(job_id), owner=user.username))


def status_of(job: JobRecord) -> JobStatusOut:
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
