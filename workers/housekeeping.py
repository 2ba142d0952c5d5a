"""Housekeeping run by Celery Beat: purge what has outlived its time (scratch files, audio of
expired jobs, cached audio gone unused), send again the work of workers that died, and fail
the jobs whose work was lost."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from utils.accounts.slots import parse_holder
from utils.clock import epoch_of
from utils.errors import StorageError
from utils.jobs.backlog import jobs_with_queued_work
from utils.jobs.liveness import lost_blocks, running_blocks, this_worker
from utils.jobs.models import BlockStatus, JobRecord
from utils.jobs.recovery import without_progress
from utils.names import LOCAL_POOL
from utils.storage.keys import CACHE_FOLDER, JOBS_FOLDER
from workers.account_slots import fill_local_slots, resend_lost_block, resend_stranded_blocks
from workers.context import WorkerContext

log = logging.getLogger(__name__)

# Lost work is sent again at most this often per job; then it is failed as stalled.
MAX_RECOVERIES = 3


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
    """Find the jobs whose work was lost and send it again, or fail them; the failed ids.

    A job with no progress for a while may only be waiting its turn: behind a long backlog, in
    line for an account slot, or with a block still being made. Its work is lost only when it
    is nowhere: not running, not waiting for a slot, and named by no message in the broker (a
    message can vanish in a broker outage, between its delivery and its record). Lost work is
    sent again after LOST_WORK_AFTER_S without progress: the combine, if every block is made,
    else the unfinished blocks, up to MAX_RECOVERIES times. A job still without progress or
    work after JOB_STALL_TIMEOUT is failed as stalled; POST /tts/{id}/retry resumes it.
    """
    settings = ctx.settings
    quiet = without_progress(
        ctx.jobs, min(settings.LOST_WORK_AFTER_S, settings.JOB_STALL_TIMEOUT), now
    )
    if not quiet:
        return []
    holders = running_blocks(ctx.redis)
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
        elif job.recoveries < MAX_RECOVERIES and _quiet_for(job, settings.LOST_WORK_AFTER_S, now):
            unfinished = [b for b in job.blocks if b.status != BlockStatus.COMPLETED]
            log.warning("job %s: %d blocks were lost; sending them again", job_id, len(unfinished))
            ctx.jobs.count_recovery(job_id)
            ctx.queue.blocks(
                job_id, [(b.index, ctx.providers.queue_for(b.spec.provider)) for b in unfinished]
            )
        elif _quiet_for(job, settings.JOB_STALL_TIMEOUT, now):
            ctx.jobs.fail(
                job_id,
                f"stalled: no progress for more than {settings.JOB_STALL_TIMEOUT} s and none of "
                f"its work is queued or running; POST /tts/{job_id}/retry resumes it",
            )
            log.warning("job %s stalled: its work was lost; marked failed", job_id)
            stalled.append(job_id)
    return stalled


def _quiet_for(job: JobRecord, seconds: float, now: float | None) -> bool:
    return (now or time.time()) - epoch_of(job.updated_at) > seconds


def recover_lost_work(ctx: WorkerContext, grace_s: float) -> list[tuple[str, int]]:
    """Send again the blocks whose worker process died while making them (its heartbeat
    stopped, or it is gone from this machine), and those handed an account slot whose task
    never started."""
    return _resend_lost(ctx, lost_blocks(ctx.redis, ctx.settings.liveness)) + [
        parse_holder(h) for h in resend_stranded_blocks(ctx, grace_s)
    ]


def reclaim_at_start(ctx: WorkerContext, local: bool) -> list[tuple[str, int]]:
    """What a worker process does as it starts, before its first block: send again the blocks
    of dead processes on this machine (as a replacement starts where one was killed) and of
    an earlier process under its own name; and, in the local pool, take the slots it adds."""
    lost = _resend_lost(ctx, lost_blocks(ctx.redis, ctx.settings.liveness, reborn=this_worker()))
    if local:
        fill_local_slots(ctx)
    return lost


def _resend_lost(ctx: WorkerContext, lost: list[tuple[str, int]]) -> list[tuple[str, int]]:
    for job_id, index in lost:
        log.warning("block %d of job %s was lost with its worker; sending it again", index, job_id)
        provider = ctx.jobs.provider_of(job_id, index)
        if provider is not None:  # else the job has expired meanwhile
            resend_lost_block(ctx, provider, job_id, index)
    return lost
