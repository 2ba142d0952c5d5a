"""Probes for orchestrators and load balancers (utils/readiness.py holds the checks).

GET /live    the process answers; nothing else is asked (a liveness probe must not fail
             because Redis did: restarting the API would not bring Redis back)
GET /ready   Redis and the broker answer, storage is writable, a worker beats; else 503
             naming the failing checks (a readiness probe: take it out of rotation)
GET /health  every check in detail; 503 only when the API itself cannot serve (Redis,
             broker, storage). No worker beating is "degraded", still 200: the API serves
             status and audio without one, and tools that start the API before any
             worker (bench/stack.py, the run command) wait on /health.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])

API_NEEDS = ("redis", "broker", "storage")


@router.get("/live")
def live() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    checks = await run_in_threadpool(request.app.state.readiness.checks)
    failing = [c.name for c in checks if not c.ok]
    body = {
        "status": "not ready" if failing else "ready",
        "failing": failing,
        "checks": {c.name: c.as_dict() for c in checks},
    }
    return JSONResponse(body, status_code=503 if failing else 200)


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    checks = await run_in_threadpool(request.app.state.readiness.checks)
    failing = [c.name for c in checks if not c.ok]
    down = [name for name in failing if name in API_NEEDS]
    status = "unavailable" if down else ("degraded" if failing else "ok")
    body = {"status": status, "failing": failing, "checks": {c.name: c.as_dict() for c in checks}}
    return JSONResponse(body, status_code=503 if down else 200)
