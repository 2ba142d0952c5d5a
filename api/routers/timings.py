"""Where each sentence and word is in a job's final audio, and subtitles made from that.

Times are the block's place in the final file (start_ms, written by the combine) plus the
sentence's own place in the block (utils/audio/timings.py), so they are as exact at the end of
an hour as at the start. The same times are given as JSON, as Amazon Polly's speech marks
(utils/text/speech_marks.py), and as subtitles by sentence or by word
(utils/text/subtitles.py, utils/text/word_subtitles.py).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response

from api.deps import CurrentUser, JobsDep
from api.schemas.timings import MarkOut, TimedTextOut, TimingsOut
from utils.audio.mark_times import mark_times
from utils.audio.timings import Timed, job_timings
from utils.errors import NotFound, NotReady
from utils.jobs.models import JobRecord, JobStatus
from utils.jobs.store import JobStore
from utils.text.speech_marks import CONTENT_TYPE, speech_marks, to_json_lines
from utils.text.subtitles import build_cues, to_srt, to_vtt
from utils.text.word_subtitles import MAX_CHARS, MAX_SECONDS, karaoke_vtt, word_srt

router = APIRouter(prefix="/result", tags=["results"])

Words = Annotated[
    bool,
    Query(
        description="Follow each word (only for a job with word timings: else 422): WebVTT "
        "cues with a timestamp before each word; SRT cues cut at words"
    ),
]


def _completed(jobs: JobStore, job_id: uuid.UUID, owner: str) -> JobRecord:
    job = jobs.get(str(job_id), owner=owner)
    if job.status != JobStatus.COMPLETED:
        raise NotReady(f"job {job.id} is {job.status.value}, not completed", job.status.value)
    return job


def _timed(jobs: JobStore, job: JobRecord) -> tuple[list[Timed], list[Timed]]:
    return job_timings(job, jobs.timings(job))


@router.get(
    "/{job_id}/timings",
    response_model=TimingsOut,
    responses={200: {"content": {CONTENT_TYPE: {}}}},
)
def timings(
    job_id: uuid.UUID,
    user: CurrentUser,
    jobs: JobsDep,
    format: Annotated[
        Literal["json", "speechmarks"],
        Query(
            description="json: this body; speechmarks: Amazon Polly's speech marks, one JSON "
            f"object a line ({CONTENT_TYPE}) with UTF-8 byte offsets into the input as sent"
        ),
    ] = "json",
) -> TimingsOut | Response:
    """Every sentence of every block (and every word, where the provider times words), and
    every SSML <mark>, with where it is in the final audio. For a job submitted with
    combine: false, times are in each block's own audio."""
    job = _completed(jobs, job_id, user.username)
    sentences, words = _timed(jobs, job)
    marks = mark_times(job, sentences, words)
    if format == "speechmarks":
        lines = to_json_lines(speech_marks(job, sentences, words, marks))
        return Response(lines, media_type=CONTENT_TYPE)
    return TimingsOut(
        sentences=[TimedTextOut(**asdict(s)) for s in sentences],
        words=[TimedTextOut(**asdict(w)) for w in words],
        marks=[
            MarkOut(
                name=m.name,
                block=m.block,
                start_ms=m.start_ms,
                source=m.source,
                chars=(m.char,) * 2,
            )
            for m in marks
        ],
    )


def _subtitled(jobs: JobStore, job_id: uuid.UUID, owner: str, words_asked: bool):
    job = _completed(jobs, job_id, owner)
    if not job.combine:
        raise NotFound(
            f"job {job.id} has no combined audio for subtitles to follow (it was submitted "
            f"with combine: false); /result/{job.id}/timings gives each block's own times"
        )
    sentences, words = _timed(jobs, job)
    if words_asked and not words:
        providers = ", ".join(sorted({b.spec.provider for b in job.blocks}))
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "words"),
                    "msg": f"job {job.id} has no word timings: its provider ({providers}) "
                    "times sentences only; leave out words for cues by sentence",
                    "type": "value_error",
                }
            ]
        )
    return job, sentences, words


def _file(text: str, media_type: str, job: JobRecord, extension: str) -> PlainTextResponse:
    return PlainTextResponse(
        text,
        media_type=media_type,
        headers={"Content-Disposition": f'inline; filename="tts-{job.id}.{extension}"'},
    )


@router.get("/{job_id}/subtitles.srt", response_class=PlainTextResponse)
def subtitles_srt(
    job_id: uuid.UUID,
    user: CurrentUser,
    jobs: JobsDep,
    words: Words = False,
    max_chars: Annotated[
        int, Query(ge=10, le=200, description="With words: the most characters of a cue")
    ] = MAX_CHARS,
    max_seconds: Annotated[
        float, Query(ge=0.5, le=60, description="With words: the longest a cue lasts")
    ] = MAX_SECONDS,
) -> PlainTextResponse:
    """SubRip subtitles of the final audio: cues of at most two lines of 42 characters; with
    words=true, one line of at most max_chars characters and max_seconds, cut at words."""
    job, sentences, timed_words = _subtitled(jobs, job_id, user.username, words)
    if words:
        text = word_srt(sentences, timed_words, max_chars, max_seconds)
    else:
        text = to_srt(build_cues(sentences, timed_words))
    return _file(text, "application/x-subrip", job, "srt")


@router.get("/{job_id}/subtitles.vtt", response_class=PlainTextResponse)
def subtitles_vtt(
    job_id: uuid.UUID, user: CurrentUser, jobs: JobsDep, words: Words = False
) -> PlainTextResponse:
    """WebVTT subtitles of the final audio (for an HTML <track>); with words=true, each word
    after a cue's first preceded by its time (<00:00:01.200>), for karaoke-style display."""
    job, sentences, timed_words = _subtitled(jobs, job_id, user.username, words)
    if words:
        text = karaoke_vtt(sentences, timed_words)
    else:
        text = to_vtt(build_cues(sentences, timed_words))
    return _file(text, "text/vtt", job, "vtt")
