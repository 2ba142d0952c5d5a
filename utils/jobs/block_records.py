"""A job's blocks as they are made: started, finished (the one finisher found), failed; part
of JobStore (utils/jobs/store.py), which every caller uses.

Finishing a block is SADD, then SCARD == n_blocks, then SET NX on the combine marker, so a
redelivered task adds the same index again (the count never runs ahead) and exactly one task
enqueues the combine however many race. Keys: docs/ARCHITECTURE.md, "Redis schema".
"""

from __future__ import annotations

import json

import redis
from redis.commands.core import Script

from utils.clock import now_iso
from utils.jobs.models import BlockStatus, JobRecord
from utils.names import (
    block_key,
    combine_marker_key,
    done_key,
    job_events_channel,
    job_key,
    running_blocks_key,
    running_field,
    timings_key,
)

# A block's start, unless its job was cancelled (or the block skipped) since its task read it:
# then nothing is written and 0 comes back, so no provider call begins for a cancelled job.
# KEYS: block, job, running blocks. ARGV: stamp, worker, running field, expiry (epoch), the
# change to publish, its channel. The job goes queued -> processing with its first block.
START_BLOCK = """
local job_status = redis.call('HGET', KEYS[2], 'status')
if job_status == 'cancelled' or redis.call('HGET', KEYS[1], 'status') == 'skipped' then
  return 0
end
redis.call('HSET', KEYS[1], 'status', 'processing', 'worker', ARGV[2], 'started_at', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[2], 'updated_at', ARGV[1])
if job_status == 'queued' then redis.call('HSET', KEYS[2], 'status', 'processing') end
redis.call('EXPIREAT', KEYS[1], ARGV[4])
redis.call('EXPIREAT', KEYS[2], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[2])
redis.call('PUBLISH', ARGV[6], ARGV[5])
return 1
"""
# KEYS: block, running blocks. ARGV: error, running field. 1 if the block was failed.
FAIL_UNFINISHED_BLOCK = (
    "local status = redis.call('HGET', KEYS[1], 'status') "
    "if status == false or status == 'completed' then return 0 end "
    "redis.call('HSET', KEYS[1], 'status', 'failed', 'error', ARGV[1]) "
    "redis.call('HDEL', KEYS[2], ARGV[2]) "
    "return 1"
)


def publish_change(pipe: redis.client.Pipeline, job_id: str, **event: str | int) -> None:
    """Tell whoever listens (progressive streams, event feeds) what changed, as it changes."""
    pipe.publish(job_events_channel(job_id), json.dumps(event))


def _expire_with_job(pipe: redis.client.Pipeline, job: JobRecord, index: int) -> None:
    """The job's and the block's hash expire when the job does, even written again after the
    job was deleted (its user deleted while the block was being made)."""
    pipe.expireat(block_key(job.id, index), job.expires_at)
    pipe.expireat(job_key(job.id), job.expires_at)


class BlockRecords:
    redis: redis.Redis
    _start_block: Script
    _fail_unfinished_block: Script

    def start_block(self, job: JobRecord, index: int, worker: str = "") -> bool:
        """The block is being made by `worker` (utils/jobs/liveness.py), which beat watches;
        False if its job was cancelled meanwhile (the block is not to be made)."""
        change = json.dumps({"block": index, "status": BlockStatus.PROCESSING})
        return bool(
            self._start_block(
                keys=[block_key(job.id, index), job_key(job.id), running_blocks_key()],
                args=[
                    now_iso(),
                    worker,
                    running_field(job.id, index),
                    int(job.expires_at),
                    change,
                    job_events_channel(job.id),
                ],
            )
        )

    def finish_block(self, job: JobRecord, index: int, result: dict[str, str | int]) -> bool:
        """Record a finished block; True for exactly one caller once every block is done.
        A "timings" entry of `result` goes to the job's timings hash, not the block's."""
        result = dict(result)
        timings = result.pop("timings", None)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                block_key(job.id, index),
                mapping={**result, "status": BlockStatus.COMPLETED.value, "error": ""},
            )
            pipe.hsetnx(block_key(job.id, index), "finished_at", now_iso())
            pipe.sadd(done_key(job.id), index)
            pipe.expireat(done_key(job.id), job.expires_at)
            pipe.scard(done_key(job.id))
            pipe.hset(job_key(job.id), "updated_at", now_iso())
            _expire_with_job(pipe, job, index)
            pipe.hdel(running_blocks_key(), running_field(job.id, index))
            publish_change(pipe, job.id, block=index, status=BlockStatus.COMPLETED)
            if timings:  # in the same transaction: a finished block always has its timings
                pipe.hset(timings_key(job.id), str(index), timings)
                pipe.expireat(timings_key(job.id), job.expires_at)
            done = pipe.execute()[4]
        if done < job.n_blocks:
            return False
        marker = combine_marker_key(job.id)
        return bool(self.redis.set(marker, "1", nx=True, exat=job.expires_at))

    def timings(self, job: JobRecord) -> list[str | None]:
        """Each block's stored timings, in order (None where none were kept)."""
        if not job.n_blocks:
            return []
        return self.redis.hmget(timings_key(job.id), [str(i) for i in range(job.n_blocks)])

    def provider_of(self, job_id: str, index: int) -> str | None:
        return self.redis.hget(block_key(job_id, index), "provider")

    def fail_block(self, job_id: str, index: int, error: str) -> None:
        """Fail the block and its job, unless the block was already made: a finished block is
        never marked failed by whatever goes wrong after it (sending the combine, say)."""
        failed = self._fail_unfinished_block(
            keys=[block_key(job_id, index), running_blocks_key()],
            args=[error, running_field(job_id, index)],
        )
        if failed:
            self.redis.publish(
                job_events_channel(job_id),
                json.dumps({"block": index, "status": BlockStatus.FAILED.value}),
            )
            self.fail(job_id, f"block {index}: {error}")  # JobOutcomes.fail, on the facade

    def not_running(self, job_id: str, index: int) -> None:
        """The block's task will run again later (a provider retry): no process holds it."""
        self.redis.hdel(running_blocks_key(), running_field(job_id, index))
