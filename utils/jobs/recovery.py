"""Jobs that need another go: those without progress (for beat's checks), and a failed job's
unfinished blocks put back in line (for POST /tts/{id}/retry)."""

from __future__ import annotations

import time

from utils.clock import epoch_of
from utils.jobs.models import BlockStatus, JobRecord, JobStatus
from utils.jobs.store import JobStore


def without_progress(store: JobStore, timeout_s: float, now: float | None = None) -> list[str]:
    """Unfinished jobs with no block started or finished for `timeout_s` (waiting their
    turn, or lost: workers/housekeeping.py tells which)."""
    now = now or time.time()
    return [
        job_id
        for job_id, status, updated_at in store.active_progress()
        if status is not None
        and not JobStatus(status).finished
        and now - epoch_of(updated_at) > timeout_s
    ]


def reset_for_retry(store: JobStore, job: JobRecord) -> list[int]:
    """Put a failed job's unfinished blocks back in the queue state; their indices.

    Finished blocks are kept and reused; the block that now finishes last enqueues the
    combine again.
    """
    retry = [b.index for b in job.blocks if b.status != BlockStatus.COMPLETED]
    store.requeue(job, retry)
    return retry
