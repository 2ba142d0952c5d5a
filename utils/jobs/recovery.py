"""Jobs that need another go: those without progress (for beat's checks), and a failed job's
unfinished blocks put back in line (for POST /tts/{id}/retry). Key names in utils/names.py."""

from __future__ import annotations

import time

from utils.clock import epoch_of, now_iso
from utils.jobs.models import BlockStatus, JobRecord, JobStatus
from utils.jobs.store import JobStore
from utils.names import active_jobs_key, block_key, combine_marker_key, job_key


def without_progress(store: JobStore, timeout_s: float, now: float | None = None) -> list[str]:
    """Unfinished jobs with no block started or finished for `timeout_s` (waiting their
    turn, or lost: workers/housekeeping.py tells which)."""
    now = now or time.time()
    job_ids = store.redis.zrange(active_jobs_key(), 0, -1)
    with store.redis.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.hmget(job_key(job_id), "status", "updated_at")
        rows = pipe.execute()
    quiet = []
    for job_id, (status, updated_at) in zip(job_ids, rows, strict=True):
        if status is None:  # expired: nothing left to fail
            store.redis.zrem(active_jobs_key(), job_id)
        elif not JobStatus(status).finished and now - epoch_of(updated_at) > timeout_s:
            quiet.append(job_id)
    return quiet


def reset_for_retry(store: JobStore, job: JobRecord) -> list[int]:
    """Put a failed job's unfinished blocks back in the queue state; their indices.

    Finished blocks are kept and reused; the combine marker is cleared so the block that
    now finishes last enqueues the combine again.
    """
    retry = [b.index for b in job.blocks if b.status != BlockStatus.COMPLETED]
    with store.redis.pipeline(transaction=True) as pipe:
        for index in retry:
            pipe.hset(
                block_key(job.id, index),
                mapping={"status": BlockStatus.QUEUED.value, "error": ""},
            )
        pipe.delete(combine_marker_key(job.id))
        pipe.hdel(job_key(job.id), "error")
        status = JobStatus.PROCESSING if len(retry) < job.n_blocks else JobStatus.QUEUED
        pipe.hset(job_key(job.id), mapping={"status": status.value, "updated_at": now_iso()})
        pipe.zadd(active_jobs_key(), {job.id: time.time()})
        pipe.execute()
    return retry
