"""Where each sentence and word is in a job's final audio, and subtitles made from that.

Times are the block's place in the final file (start_ms, written by the combine) plus the
sentence's own place in the block (utils/audio/timings.py), so they are as exact at the end of
an hour as at the start.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from api.deps import CurrentUser, JobsDep
from api.schemas.timings import TimedTextOut, TimingsOut
from utils.audio.timings import Timed, job_timings
from utils.errors import NotFound, NotReady
from utils.jobs.models import JobRecord, JobStatus
from utils.jobs.store import JobStore
from utils.text.subtitles import build_cues, to_srt, to_vtt

router = APIRouter(prefix="/result", tags=["results"])


def _completed(jobs: JobStore, job_id: uuid.UUID, owner: str) -> JobRecord:
    job = jobs.get(str(job_id), owner=owner)
    if job.status != JobStatus.COMPLETED:
        raise NotReady(f"job {job.id} is {job.status.value}, not completed", job.status.value)
    return job


def _timed(jobs: JobStore, job: JobRecord) -> tuple[list[Timed], list[Timed]]:
    return job_timings(job, jobs.timings(job))


@router.get("/{job_id}/timings", response_model=TimingsOut)
def timings(job_id: uuid.UUID, user: CurrentUser, jobs: JobsDep) -> TimingsOut:
    """Every sentence of every block (and every word, where the provider times words) with
    where it starts and ends in the final audio. For a job submitted with combine: false,
    times are in each block's own audio."""
    job = _completed(jobs, job_id, user.username)
    sentences, words = _timed(jobs, job)
    return TimingsOut(
        sentences=[TimedTextOut(**asdict(s)) for s in sentences],
        words=[TimedTextOut(**asdict(w)) for w in words],
    )


def _cues(jobs: JobStore, job_id: uuid.UUID, owner: str):
    job = _completed(jobs, job_id, owner)
    if not job.combine:
        raise NotFound(
            f"job {job.id} has no combined audio for subtitles to follow (it was submitted "
            f"with combine: false); /result/{job.id}/timings gives each block's own times"
        )
    return job, build_cues(*_timed(jobs, job))


@router.get("/{job_id}/subtitles.srt", response_class=PlainTextResponse)
def subtitles_srt(job_id: uuid.UUID, user: CurrentUser, jobs: JobsDep) -> PlainTextResponse:
    """SubRip subtitles of the final audio: cues of at most two lines of 42 characters."""
    job, cues = _cues(jobs, job_id, user.username)
    return PlainTextResponse(
        to_srt(cues),
        media_type="application/x-subrip",
        headers={"Content-Disposition": f'inline; filename="tts-{job.id}.srt"'},
    )


@router.get("/{job_id}/subtitles.vtt", response_class=PlainTextResponse)
def subtitles_vtt(job_id: uuid.UUID, user: CurrentUser, jobs: JobsDep) -> PlainTextResponse:
    """WebVTT subtitles of the final audio (for an HTML <track>)."""
    job, cues = _cues(jobs, job_id, user.username)
    return PlainTextResponse(
        to_vtt(cues),
        media_type="text/vtt",
        headers={"Content-Disposition": f'inline; filename="tts-{job.id}.vtt"'},
    )
