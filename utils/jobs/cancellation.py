"""A job cancelled by its owner (DELETE /jobs/{id}), as job state: the job moved to
`cancelled` in one step, only from queued or processing; its blocks not made `skipped`; a
block made meanwhile discarded when it ends; the job's audio purged on request.

Why nothing stops a block in flight: its provider call is already paid for and holds its
account's slot until it answers, so it ends as it would, and is then discarded here
(`discard_block`): not kept in the job, and never counted towards the combine. Blocks not
started never start: every task re-reads its job first (workers/synthesis.py), and those
waiting for a slot leave their account's line (utils/accounts/slot_lines.py).

Keys: docs/ARCHITECTURE.md, "Redis schema" (the job hash's cancelled_at and purged fields).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import NamedTuple

import redis

from utils.accounts.slot_lines import SlotLines
from utils.clock import now_iso
from utils.jobs.deletion import purge_job_audio
from utils.jobs.models import JobStatus
from utils.jobs.store import JobStore
from utils.metrics import JOBS
from utils.names import (
    LOCAL_POOL,
    active_jobs_key,
    block_key,
    done_key,
    job_events_channel,
    job_key,
    running_blocks_key,
    running_field,
    timings_key,
)
from utils.redis_scripts import execute, queue_script
from utils.storage.base import Storage

log = logging.getLogger(__name__)

# KEYS: job, active jobs. ARGV: job id, now. Returns {1 if cancelled by this call, the status
# before}; {0, false} for a job that is gone.
_CANCEL = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {0, false} end
if status ~= 'queued' and status ~= 'processing' then return {0, status} end
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'updated_at', ARGV[2], 'cancelled_at', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
return {1, status}
"""

# KEYS: block. A block not made (waiting, or in flight) is skipped: it will not be made.
_SKIP_UNMADE = """
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'queued' or status == 'processing' then
  redis.call('HSET', KEYS[1], 'status', 'skipped')
end
"""

# KEYS: block, done, timings, running blocks. ARGV: index, running field. A block made after
# its job was cancelled: taken out of the job (the done count, its audio and timings).
_DISCARD = """
redis.call('HSET', KEYS[1], 'status', 'skipped', 'storage_key', '')
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[2])
"""


class Cancellation(NamedTuple):
    status: JobStatus  # the job's status now
    now: bool  # True: this call cancelled it (False: it was cancelled already, or finished)


class JobCancellation:
    """Cancels jobs and discards what their workers make after."""

    def __init__(self, jobs: JobStore, announce: Callable[[str, JobStatus], None] | None = None):
        """`announce(job_id, status)`: told once when a job is cancelled (the API sends its
        webhook event with it, workers/webhooks.py announcer)."""
        self.jobs = jobs
        self.redis = jobs.redis
        self.announce = announce
        self._cancel = self.redis.register_script(_CANCEL)
        self._skip_unmade = self.redis.register_script(_SKIP_UNMADE)
        self._discard = self.redis.register_script(_DISCARD)

    def cancel(self, job_id: str) -> Cancellation:
        """Cancel a queued or processing job; a job in any other status is left as it is (the
        caller says why). Its blocks not made are skipped, those waiting for a slot leave
        their lines, and listeners are told."""
        moved, before = self._cancel(
            keys=[job_key(job_id), active_jobs_key()], args=[job_id, now_iso()]
        )
        if not int(moved):
            return Cancellation(JobStatus(before), False)
        owner, n_blocks = self.redis.hmget(job_key(job_id), "owner", "n_blocks")
        n_blocks = int(n_blocks or 0)
        with self.redis.pipeline(transaction=False) as pipe:
            for index in range(n_blocks):
                queue_script(pipe, self._skip_unmade, [block_key(job_id, index)])
            execute(pipe)  # scripts alone
        # the local pool's line, and each of its providers' accounts' (where they have one)
        accounts = {LOCAL_POOL, *self.providers_of(job_id, n_blocks)}
        SlotLines(self.redis).leave(accounts, job_id, owner or "")
        self.redis.publish(
            job_events_channel(job_id), json.dumps({"status": JobStatus.CANCELLED.value})
        )
        JOBS.labels("cancelled").inc()
        if self.announce is not None:
            try:  # its failure never undoes the cancel
                self.announce(job_id, JobStatus.CANCELLED)
            except Exception:
                log.exception("job %s is cancelled, but announcing it failed", job_id)
        return Cancellation(JobStatus.CANCELLED, True)

    def providers_of(self, job_id: str, n_blocks: int) -> set[str]:
        """The providers (account names) of the job's blocks, in one round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            for index in range(n_blocks):
                pipe.hget(block_key(job_id, index), "provider")
            return {p for p in pipe.execute() if p}

    def cancelled(self, job_id: str) -> bool:
        return is_cancelled(self.redis, job_id)

    def discard_block(self, job_id: str, index: int, storage: Storage | None = None) -> None:
        """A block of a cancelled job, made (or finished) after the cancel: not kept in the
        job. Where the job's audio was purged meanwhile, purged again (this block's too)."""
        self._discard(
            keys=[
                block_key(job_id, index),
                done_key(job_id),
                timings_key(job_id),
                running_blocks_key(),
            ],
            args=[index, running_field(job_id, index)],
        )
        if storage is not None and self.redis.hget(job_key(job_id), "purged"):
            purge_job_audio(storage, job_id)

    def purge(self, storage: Storage, job_id: str) -> int:
        """Delete the job's audio (blocks and final file); noted on the job, so that a block
        finishing later deletes its own. How many objects went."""
        self.redis.hset(job_key(job_id), "purged", "1")
        return purge_job_audio(storage, job_id)


def is_cancelled(client: redis.Redis, job_id: str) -> bool:
    return client.hget(job_key(job_id), "status") == JobStatus.CANCELLED.value
