"""Housekeeping run by Celery Beat: purge what has outlived its time (scratch files, audio of
expired jobs, cached audio gone unused), send again the work of workers that died, and fail
the jobs whose work was lost."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from utils.accounts.slots import parse_holder
from utils.errors import StorageError
from utils.jobs.backlog import jobs_with_queued_work
from utils.jobs.liveness import lost_blocks
from utils.names import LOCAL_POOL, running_blocks_key
from utils.storage.keys import CACHE_FOLDER, JOBS_FOLDER
from workers.account_slots import release_slot, resend_stranded_blocks
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


def check_stalled_jobs(ctx: WorkerContext, now: float | None = None) -> list[str]:
    """Fail the jobs whose work is truly lost; their ids.

    A job with no progress for JOB_STALL_TIMEOUT may only be waiting its turn: behind a long
    backlog, or in line for an account slot, or with a block still being made. It is stalled
    only when none of its work is anywhere: not running, not waiting for a slot, and named by
    no message in the broker. Then, if every block is made, only its combine was lost and it
    is sent again; otherwise the job fails and POST /tts/{id}/retry resumes it.
    """
    timeout = ctx.settings.JOB_STALL_TIMEOUT
    quiet = ctx.jobs.without_progress(timeout, now)
    if not quiet:
        return []
    holders = list(ctx.redis.hkeys(running_blocks_key()))
    for name in [LOCAL_POOL, *ctx.providers.names()]:
        holders += ctx.slots.waiting(name)
    busy = {parse_holder(holder)[0] for holder in holders} | jobs_with_queued_work(ctx.redis)
    stalled = []
    for job_id in quiet:
        if job_id in busy:
            continue
        job = ctx.jobs.get(job_id)
        if job.done_count == job.n_blocks:
            log.warning("job %s: every block is made but its combine was lost; sending it", job_id)
            ctx.jobs.reopen_combine(job_id)
            ctx.queue.combine(job_id)
            continue
        ctx.jobs.fail(
            job_id,
            f"stalled: no progress for more than {timeout} s and none of its work is queued "
            f"or running; POST /tts/{job_id}/retry resumes it",
        )
        log.warning("job %s stalled: its work was lost; marked failed", job_id)
        stalled.append(job_id)
    return stalled


def recover_lost_work(ctx: WorkerContext, grace_s: float) -> list[tuple[str, int]]:
    """Send again the blocks whose worker process died while making them (its heartbeat
    stopped), and those handed an account slot whose task never started."""
    lost = lost_blocks(ctx.redis)
    for job_id, index in lost:
        log.warning("block %d of job %s was lost with its worker; sending it again", index, job_id)
        _, block = ctx.jobs.get_with_block(job_id, index)
        # the dead process's slot is free now, not when its lease would run out
        release_slot(ctx, block.spec.provider, job_id, index)
        ctx.queue.resend_block(job_id, index, ctx.providers.queue_for(block.spec.provider))
    return lost + [parse_holder(h) for h in resend_stranded_blocks(ctx, grace_s)]
