"""A tiny stand-in for the service, for what the real one cannot be made to do on demand:
answer 429 and 503 with a chosen Retry-After, and send a job's progress as server-sent events
(GET /jobs/{id}/events, which this branch's service does not have yet)."""

from __future__ import annotations

import json
from collections import Counter

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse, StreamingResponse

JOB_ID = "00000000-0000-4000-8000-000000000001"


def status_body(status: str, done: int, n: int = 2) -> dict:
    blocks = [
        {"index": i, "status": "completed" if i < done else "queued", "attempts": int(i < done)}
        for i in range(n)
    ]
    return {
        "job_id": JOB_ID,
        "status": status,
        "progress": f"{done}/{n}",
        "output_format": "mp3_24000_64",
        "blocks": blocks,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


EVENTS = [status_body("queued", 0), status_body("processing", 1), status_body("completed", 2)]


def fake_service(refusals: list[tuple[int, str | None]]) -> tuple[FastAPI, Counter]:
    """POST /tts answers each of `refusals` (status, Retry-After) in turn, then 202."""
    app, calls, left = FastAPI(), Counter(), list(refusals)

    @app.post("/tts")
    def submit() -> Response:
        calls["submit"] += 1
        if left:
            code, after = left.pop(0)
            headers = {"Retry-After": after} if after is not None else {}
            return JSONResponse({"detail": "slow down"}, code, headers=headers)
        return JSONResponse({"job_id": JOB_ID, "status": "queued"}, 202)

    @app.get("/status/{job_id}")
    def status(job_id: str) -> dict:
        calls["status"] += 1
        return EVENTS[-1]

    @app.get("/jobs/{job_id}/events")
    def events(job_id: str) -> StreamingResponse:
        calls["events"] += 1

        def feed():
            yield ": keep-alive\n\n"
            for body in EVENTS:
                yield f"event: status\ndata: {json.dumps(body)}\n\n"

        return StreamingResponse(feed(), media_type="text/event-stream")

    return app, calls
