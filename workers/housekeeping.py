"""Housekeeping run by Celery Beat: purge what has outlived its time (scratch files, audio of
expired jobs, cached audio gone unused) and fail jobs that stopped making progress."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from utils.errors import StorageError
from utils.storage.keys import CACHE_FOLDER, JOBS_FOLDER
from workers.context import WorkerContext

log = logging.getLogger(__name__)


def purge_temp_files(temp_dir: Path, ttl_s: int, now: float | None = None) -> int:
    """Delete files under `temp_dir` older than `ttl_s`; `.gitkeep` stays. Returns the count."""
    cutoff = (now or time.time()) - ttl_s
    removed = 0
    for path in temp_dir.rglob("*"):
        try:
            if path.is_file() and path.name != ".gitkeep" and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # removed meanwhile by whoever wrote it
    return removed


def purge_storage(ctx: WorkerContext, now: float | None = None) -> dict[str, int]:
    """Every age-based purge. A job's audio is written after the job was created, so audio
    older than JOB_TTL belongs to a job whose keys have expired; cached audio is touched on
    each use, so what is older than AUDIO_CACHE_TTL went unused that long."""
    settings = ctx.settings
    result = {"temp_files": purge_temp_files(settings.TEMP_DIR, settings.TEMP_TTL, now)}
    purges = {"expired_job_audio": (JOBS_FOLDER, settings.JOB_TTL)}
    if settings.AUDIO_CACHE_TTL:
        purges["unused_cached_audio"] = (CACHE_FOLDER, settings.AUDIO_CACHE_TTL)
    for name, (prefix, ttl_s) in purges.items():
        try:
            result[name] = ctx.storage.purge(prefix, ttl_s, now)
        except StorageError as exc:
            log.warning("purge of %s failed: %s", prefix, exc)
            result[name] = 0
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
