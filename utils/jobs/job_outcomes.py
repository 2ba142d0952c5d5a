"""How a job ends, and how a failed one starts again: combining, completed, failed (its queued
blocks skipped, on_finished told), put back in line for a retry; part of JobStore
(utils/jobs/store.py), which every caller uses. Keys: docs/ARCHITECTURE.md, "Redis schema".
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import redis
from redis.commands.core import Script

from utils.clock import now_iso
from utils.jobs.block_records import publish_change
from utils.jobs.models import BlockStatus, JobRecord, JobStatus
from utils.metrics import JOBS
from utils.names import active_jobs_key, block_key, combine_marker_key, job_events_channel, job_key
from utils.redis_scripts import execute, queue_script

log = logging.getLogger(__name__)

QUEUED_TO_SKIPPED = (
    "if redis.call('HGET', KEYS[1], 'status') == 'queued' then "
    "redis.call('HSET', KEYS[1], 'status', 'skipped') end"
)


class JobOutcomes:
    redis: redis.Redis
    on_finished: Callable[[str, JobStatus], None] | None
    _queued_to_skipped: Script
    _set_existing: Script

    def reopen_combine(self, job_id: str) -> None:
        """Let the next finisher enqueue the combine again (the one who won could not)."""
        self.redis.delete(combine_marker_key(job_id))

    def set_combining(self, job_id: str) -> None:
        """Mark the combine as started; `combine_runs` counts how often (once, normally)."""
        self._set_status_unless_finished(job_id, JobStatus.COMBINING)
        self.redis.hincrby(job_key(job_id), "combine_runs", 1)

    def complete(
        self,
        job: JobRecord,
        storage_key: str | None,
        duration_ms: int,
        offsets: list[tuple[int, int]],
    ) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            if offsets:  # where each block landed, in one command (not on a deleted job's)
                args = [f for start, end in offsets for f in (2, "start_ms", start, "end_ms", end)]
                self._set_existing(
                    keys=[block_key(job.id, i) for i in range(len(offsets))], args=args, client=pipe
                )
            pipe.hset(
                job_key(job.id),
                mapping={
                    "status": JobStatus.COMPLETED.value,
                    "storage_key": storage_key or "",
                    "duration_ms": duration_ms,
                    "updated_at": now_iso(),
                },
            )
            pipe.expireat(job_key(job.id), job.expires_at)
            pipe.zrem(active_jobs_key(), job.id)
            publish_change(pipe, job.id, status=JobStatus.COMPLETED)
            pipe.execute()
        self._announce(job.id, JobStatus.COMPLETED)
        JOBS.labels("completed").inc()

    def fail(self, job_id: str, error: str) -> None:
        """Mark the job failed, keeping the first reason; a completed (or cancelled) job stays
        so."""
        key = job_key(job_id)

        def mark(pipe: redis.client.Pipeline) -> bool:
            status = pipe.hget(key, "status")
            if status in (None, JobStatus.COMPLETED.value, JobStatus.CANCELLED.value):
                return False
            pipe.multi()
            pipe.hsetnx(key, "error", error)
            pipe.hset(key, mapping={"status": JobStatus.FAILED.value, "updated_at": now_iso()})
            pipe.zrem(active_jobs_key(), job_id)
            return status != JobStatus.FAILED.value

        failed = self.redis.transaction(mark, key, value_from_callable=True)
        if failed:
            JOBS.labels("failed").inc()  # counted once, by whoever failed it
        self._skip_queued_blocks(job_id)
        self.redis.publish(job_events_channel(job_id), json.dumps({"status": JobStatus.FAILED}))
        if failed:
            self._announce(job_id, JobStatus.FAILED)

    def requeue(self, job: JobRecord, indices: list[int]) -> None:
        """Put a failed job's blocks `indices` back in the queued state, in one transaction:
        the combine marker is cleared so the block that now finishes last enqueues the combine
        again, and the job is active again (utils/jobs/recovery.py reset_for_retry)."""
        with self.redis.pipeline(transaction=True) as pipe:
            for index in indices:
                pipe.hset(
                    block_key(job.id, index),
                    mapping={"status": BlockStatus.QUEUED.value, "error": ""},
                )
            pipe.delete(combine_marker_key(job.id))
            pipe.hdel(job_key(job.id), "error")
            status = JobStatus.PROCESSING if len(indices) < job.n_blocks else JobStatus.QUEUED
            pipe.hset(job_key(job.id), mapping={"status": status.value, "updated_at": now_iso()})
            pipe.zadd(active_jobs_key(), {job.id: time.time()})
            pipe.execute()

    def _announce(self, job_id: str, status: JobStatus) -> None:
        """Tell on_finished; its failure never undoes or fails the outcome itself."""
        if self.on_finished is None:
            return
        try:
            self.on_finished(job_id, status)
        except Exception:
            log.exception("job %s is %s, but announcing it failed", job_id, status.value)

    def _skip_queued_blocks(self, job_id: str) -> None:
        """Blocks of a failed job that never started are `skipped`: they did not run, and a
        retry runs them."""
        n_blocks = self.redis.hget(job_key(job_id), "n_blocks")
        with self.redis.pipeline(transaction=False) as pipe:
            for index in range(int(n_blocks or 0)):
                queue_script(pipe, self._queued_to_skipped, [block_key(job_id, index)])
            execute(pipe)  # scripts alone

    def _set_status_unless_finished(self, job_id: str, new: JobStatus) -> None:
        key = job_key(job_id)

        def move(pipe: redis.client.Pipeline) -> None:
            current = pipe.hget(key, "status")
            if current is None or JobStatus(current).finished:
                return
            pipe.multi()
            pipe.hset(key, mapping={"status": new.value, "updated_at": now_iso()})

        self.redis.transaction(move, key)
