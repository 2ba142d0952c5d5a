"""Deleting a job before its time: every key of it in Redis and its audio in storage (when its
user is deleted, utils/auth/user_deletion.py). A job otherwise ends by expiry: every key at
`expires_at`, its audio by beat's age purge (workers/housekeeping.py).

Keys: docs/ARCHITECTURE.md, "Redis schema". The job's own keys go through JobStore.delete; its
webhook delivery (utils/webhooks/deliveries.py) and its entries in the shared indexes here.
"""

from __future__ import annotations

import math

from utils.jobs.store import JobStore
from utils.names import (
    job_key,
    running_blocks_key,
    running_field,
    webhook_key,
    webhook_lock_key,
    webhook_marker_key,
    webhooks_due_key,
)
from utils.storage.base import Storage
from utils.storage.keys import job_folder
from utils.webhooks.deliveries import member

# The events a job's webhook may be opened for (workers/webhooks.py EVENTS, and cancellation):
# deleting the marker of one never opened deletes nothing.
WEBHOOK_EVENTS = ("job.completed", "job.failed", "job.cancelled")


def delete_job(jobs: JobStore, storage: Storage, job_id: str) -> int:
    """Delete the job's keys, then its audio; how many stored objects went. A StorageError
    means the audio is still there (the keys are gone): beat's purge takes it by age."""
    n_blocks = int(jobs.redis.hget(job_key(job_id), "n_blocks") or 0)
    jobs.delete(job_id, n_blocks)
    markers = [webhook_marker_key(job_id, event) for event in WEBHOOK_EVENTS]
    with jobs.redis.pipeline(transaction=True) as pipe:
        pipe.delete(webhook_key(job_id), webhook_lock_key(job_id), *markers)
        pipe.zrem(webhooks_due_key(), *(member(job_id, event) for event in WEBHOOK_EVENTS))
        if n_blocks:
            pipe.hdel(running_blocks_key(), *(running_field(job_id, i) for i in range(n_blocks)))
        pipe.execute()
    return purge_job_audio(storage, job_id)


def purge_job_audio(storage: Storage, job_id: str) -> int:
    """Delete every object of the job, however recent: the age purge as of the end of time."""
    return storage.purge(job_folder(job_id), older_than_s=0, now=math.inf)
