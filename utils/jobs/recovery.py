"""Jobs that need another go: those without progress (for beat's checks), and a failed job's
unfinished blocks put back in line (for POST /tts/{id}/retry)."""

from __future__ import annotations

import time

from utils.clock import epoch_of
from utils.errors import ObjectNotFound
from utils.jobs.models import BlockRecord, BlockStatus, JobRecord, JobStatus
from utils.jobs.store import JobStore
from utils.names import done_key
from utils.storage.base import Storage


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


def reset_for_retry(store: JobStore, job: JobRecord, storage: Storage | None = None) -> list[int]:
    """Put a failed job's unfinished blocks back in the queue state; their indices.

    Finished blocks are kept and reused where their audio can be read (given `storage`): a
    block stored where this storage cannot read it (a worker on other storage) is made again,
    not reused to fail the combine the same way. The block that now finishes last enqueues
    the combine again.
    """
    unreadable = [b.index for b in job.blocks if _unreadable(storage, b)]
    if unreadable:  # counted again when made again
        store.redis.srem(done_key(job.id), *unreadable)
    retry = [
        b.index for b in job.blocks if b.status != BlockStatus.COMPLETED or b.index in unreadable
    ]
    store.requeue(job, retry)
    return retry


def _unreadable(storage: Storage | None, block: BlockRecord) -> bool:
    if storage is None or block.status != BlockStatus.COMPLETED or not block.storage_key:
        return False
    try:
        storage.open(block.storage_key).close()
    except ObjectNotFound:
        return True
    return False
