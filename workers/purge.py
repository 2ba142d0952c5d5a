"""Housekeeping run by Celery Beat: scratch files past TEMP_TTL, audio of expired jobs, and
jobs that stopped making progress."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from utils.audio_cache import CACHE_FOLDER
from utils.redis_keys import job_key
from utils.storage import JOBS_FOLDER, LocalStorage
from workers.context import WorkerContext

log = logging.getLogger(__name__)

# A job directory younger than this may belong to a job whose keys are still being written.
EXPIRED_JOB_GRACE_S = 300


def purge_temp_files(temp_dir: Path, ttl_s: int, now: float | None = None) -> int:
    """Delete files under `temp_dir` older than `ttl_s`; `.gitkeep` stays. Returns the count."""
    cutoff = (now or time.time()) - ttl_s
    removed = 0
    for path in temp_dir.rglob("*"):
        if path.is_file() and path.name != ".gitkeep" and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def purge_expired_job_audio(ctx: WorkerContext, now: float | None = None) -> int:
    """Delete local audio of jobs whose Redis keys have expired (JOB_TTL)."""
    if not isinstance(ctx.storage, LocalStorage):
        return 0  # Cloudinary keeps what the account's own retention says
    jobs_dir = ctx.storage.root / JOBS_FOLDER
    if not jobs_dir.is_dir():
        return 0
    cutoff = (now or time.time()) - EXPIRED_JOB_GRACE_S
    removed = 0
    for job_dir in jobs_dir.iterdir():
        if job_dir.stat().st_mtime < cutoff and not ctx.redis.exists(job_key(job_dir.name)):
            shutil.rmtree(job_dir, ignore_errors=True)
            removed += 1
    return removed


def purge_unused_cached_audio(ctx: WorkerContext) -> int:
    """Cached audio is touched on every use: drop what went unused for AUDIO_CACHE_TTL."""
    if not isinstance(ctx.storage, LocalStorage) or not ctx.settings.AUDIO_CACHE_TTL:
        return 0  # on Cloudinary the cache's local copies live under TEMP_DIR
    cache_dir = ctx.storage.root / CACHE_FOLDER
    return purge_temp_files(cache_dir, ctx.settings.AUDIO_CACHE_TTL) if cache_dir.is_dir() else 0


def purge(ctx: WorkerContext) -> dict[str, int]:
    result = {
        "temp_files": purge_temp_files(ctx.settings.TEMP_DIR, ctx.settings.TEMP_TTL),
        "cached_audio": purge_unused_cached_audio(ctx),
        "expired_jobs": purge_expired_job_audio(ctx),
    }
    log.info("purge: %s", result)
    return result


def fail_stalled_jobs(ctx: WorkerContext, now: float | None = None) -> list[str]:
    """Fail jobs with no progress for JOB_STALL_TIMEOUT; POST /tts/{id}/retry resumes them."""
    timeout = ctx.settings.JOB_STALL_TIMEOUT
    stalled = ctx.jobs.stalled(timeout, now)
    for job_id in stalled:
        ctx.jobs.fail(job_id, f"stalled: no progress for more than {timeout} s")
        log.warning("job %s stalled; marked failed", job_id)
    return stalled
