from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import AsyncRedisDep, CurrentUser, JobsDep
from api.job_events import status_events
from api.routers.jobs import status_of
from utils.errors import NotFound

router = APIRouter(tags=["jobs"])

EVENT_STREAM = {"text/event-stream": {"example": 'event: status\ndata: {"job_id": ...}\n\n'}}


@router.get(
    "/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": EVENT_STREAM}},
)
def job_events(
    job_id: uuid.UUID, request: Request, user: CurrentUser, jobs: JobsDep, aredis: AsyncRedisDep
) -> StreamingResponse:
    """The job's progress as server-sent events: `event: status` with the same JSON as GET
    /status/{job_id}, at once and after every change (at most one event per 100 ms), a comment
    line every 15 s of quiet; the stream ends after the event showing the job completed,
    failed or cancelled. Counts against the user's open streams (MAX_STREAMS_PER_USER)."""
    job_id_s, owner = str(job_id), user.username
    jobs.get(job_id_s, owner=owner, with_blocks=False)  # 404 before the stream starts

    async def read_status() -> dict | None:
        try:
            job = await run_in_threadpool(jobs.get, job_id_s, owner)
        except NotFound:
            return None
        return status_of(job).model_dump(mode="json", exclude_none=True)

    hold = request.app.state.open_streams.acquire(owner)  # 429 past the cap
    return StreamingResponse(
        status_events(aredis, job_id_s, read_status, hold),
        media_type="text/event-stream",
        # no-transform and X-Accel-Buffering: proxies (nginx) must pass each event on at once
        headers={"Cache-Control": "no-store, no-transform", "X-Accel-Buffering": "no"},
    )
