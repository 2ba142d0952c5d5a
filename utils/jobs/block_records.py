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
# A block's finish in one step: its record, the done set, the job's update time, its timings,
# its event, and the combine marker for the one finisher. KEYS: block, job, done set, running
# blocks, timings, combine marker. ARGV: expiry (epoch), stamp, running field, channel, event,
# index, n_blocks, timings ('' for none), then the block's fields as name, value pairs.
# 1 for the one finisher (it sends the combine); 2 when the job was cancelled meanwhile (the
# caller discards the block, workers/cancelled_blocks.py); else 0.
FINISH_BLOCK = """
local expiry, stamp = ARGV[1], ARGV[2]
local fields = {'status', 'completed', 'error', ''}
for i = 9, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HSETNX', KEYS[1], 'finished_at', stamp)
redis.call('SADD', KEYS[3], ARGV[6])
local done = redis.call('SCARD', KEYS[3])
redis.call('HSET', KEYS[2], 'updated_at', stamp)
redis.call('HDEL', KEYS[4], ARGV[3])
if ARGV[8] ~= '' then
  redis.call('HSET', KEYS[5], ARGV[6], ARGV[8])
  redis.call('EXPIREAT', KEYS[5], expiry)
end
for i = 1, 3 do redis.call('EXPIREAT', KEYS[i], expiry) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
if redis.call('HGET', KEYS[2], 'status') == 'cancelled' then return 2 end
if done < tonumber(ARGV[7]) then return 0 end
if redis.call('SET', KEYS[6], '1', 'NX', 'EXAT', expiry) then return 1 end
return 0
"""
FINISHED, LAST, CANCELLED = 0, 1, 2
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


class BlockRecords:
    redis: redis.Redis
    _start_block: Script
    _fail_unfinished_block: Script
    _finish_block: Script
    _providers: dict[tuple[str, int], str]

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
        return self.finish_made_block(job, index, result) == LAST

    def finish_made_block(self, job: JobRecord, index: int, result: dict[str, str | int]) -> int:
        """finish_block in one Redis command: LAST for the one finisher, CANCELLED where the
        job was cancelled meanwhile (the block is then the caller's to discard), else
        FINISHED."""
        result = dict(result)
        timings = result.pop("timings", None)
        pairs = [str(item) for field in result.items() for item in field]
        change = json.dumps({"block": index, "status": BlockStatus.COMPLETED})
        return int(
            self._finish_block(
                keys=[
                    block_key(job.id, index),
                    job_key(job.id),
                    done_key(job.id),
                    running_blocks_key(),
                    timings_key(job.id),
                    combine_marker_key(job.id),
                ],
                args=[
                    int(job.expires_at),
                    now_iso(),
                    running_field(job.id, index),
                    job_events_channel(job.id),
                    change,
                    index,
                    job.n_blocks,
                    timings or "",
                    *pairs,
                ],
            )
        )

    def timings(self, job: JobRecord) -> list[str | None]:
        """Each block's stored timings, in order (None where none were kept)."""
        if not job.n_blocks:
            return []
        return self.redis.hmget(timings_key(job.id), [str(i) for i in range(job.n_blocks)])

    def provider_of(self, job_id: str, index: int) -> str | None:
        remembered = self._providers.get((job_id, index))
        return remembered or self.redis.hget(block_key(job_id, index), "provider")

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
