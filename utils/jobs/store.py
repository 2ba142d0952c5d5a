"""Job state in Redis: every read and write of a job goes through JobStore, the one facade.

Its methods live in modules by what they hold: job records here (create, read, delete, the
job hash's own fields), blocks as they are made in utils/jobs/block_records.py (start, finish:
the one finisher found; fail), how a job ends in utils/jobs/job_outcomes.py (combining,
completed, failed, requeued for a retry), and the indexes of many jobs in
utils/jobs/job_indexes.py (unfinished jobs, a user's jobs). They are mixins of this one class,
as redis-py's command groups are of its client, so every caller holds one JobStore.

Beside it, in this folder and nowhere else: utils/jobs/async_reads.py reads job state with the
asyncio client, for the API's audio streams (JobStore's client is synchronous);
utils/jobs/cancellation.py moves a job to `cancelled` and its blocks out of line in Lua steps of
its own (they span the slot lines); utils/jobs/deletion.py deletes a job's keys before their
time (through JobStore.delete) with its webhook delivery.

Every key (built by utils/names.py) and field is in docs/ARCHITECTURE.md, "Redis schema";
statuses are in utils/jobs/models.py. Every key of a job expires at the same instant
(`expires_at`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import redis

from utils.clock import now_iso
from utils.errors import NotFound
from utils.jobs.block_records import (
    FAIL_UNFINISHED_BLOCK,
    FINISH_BLOCK,
    START_BLOCK,
    BlockRecords,
)
from utils.jobs.job_indexes import JobIndexes
from utils.jobs.job_outcomes import QUEUED_TO_SKIPPED, JobOutcomes
from utils.jobs.models import BlockRecord, BlockSpec, BlockStatus, JobOptions, JobRecord, JobStatus
from utils.names import (
    active_jobs_key,
    block_key,
    combine_marker_key,
    done_key,
    job_key,
    timings_key,
    user_jobs_key,
)
from utils.redis_scripts import execute, queue_script
from utils.text.source_map import marks_to_json

# The job's field saying a speech request's other pieces wait for its first (workers/lead_first.py)
REST_HELD = "rest_held"


# Hashes made with one expiry. KEYS: the hashes. ARGV: expiry (epoch), then for each hash its
# number of fields and the fields as name, value pairs.
CREATE_HASHES = """
local at = 2
for i, key in ipairs(KEYS) do
  local n = tonumber(ARGV[at])
  local fields = {}
  for j = 1, 2 * n do fields[j] = ARGV[at + j] end
  redis.call('HSET', key, unpack(fields))
  redis.call('EXPIREAT', key, ARGV[1])
  at = at + 2 * n + 1
end
return #KEYS
"""
# Fields set on hashes that exist (a job deleted meanwhile is not written back without expiry).
# KEYS: the hashes. ARGV: for each, its number of fields, then the fields as name, value pairs.
SET_WHERE_EXISTING = """
local at = 1
for i, key in ipairs(KEYS) do
  local n = tonumber(ARGV[at])
  if redis.call('EXISTS', key) == 1 then
    local fields = {}
    for j = 1, 2 * n do fields[j] = ARGV[at + j] end
    redis.call('HSET', key, unpack(fields))
  end
  at = at + 2 * n + 1
end
return 1
"""
REMEMBERED_PROVIDERS = 4096
# KEYS: hashes. Each, as a flat list (empty where there is none).
HASHES = """
local all = {}
for i, key in ipairs(KEYS) do all[i] = redis.call('HGETALL', key) end
return all
"""
# KEYS: job, block. Both hashes, as flat lists.
JOB_AND_BLOCK = "return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}"


def _as_dict(flat: list) -> dict:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _block_fields(spec: BlockSpec) -> dict:
    return {
        "text": spec.text,
        "provider": spec.provider,
        "voice": spec.voice,
        "wait_after_ms": spec.wait_after_ms,
        "speed": spec.speed,
        "status": BlockStatus.QUEUED.value,
        "attempts": 0,
        **({"client_id": spec.client_id} if spec.client_id else {}),
        **({"model": spec.model} if spec.model else {}),
        **({"instructions": spec.instructions} if spec.instructions else {}),
        **({"volume_db": spec.volume_db} if spec.volume_db else {}),
        **({"speaker": spec.speaker} if spec.speaker is not None else {}),
        **({"chapter": spec.chapter} if spec.chapter else {}),
        **({"source_map": spec.source_map.to_json()} if spec.source_map else {}),
        **({"marks": marks_to_json(spec.marks)} if spec.marks else {}),
        **({"said": spec.said} if spec.said is not None else {}),
        **({"said_map": spec.said_map} if spec.said_map else {}),
        **({"lexicons": spec.lexicons} if spec.lexicons else {}),
    }


PREVIEW_CHARS = 80  # the first words of a job, as its listing shows them


def text_preview(blocks: list[BlockSpec]) -> str:
    """The job's first words: its text from the start, whitespace collapsed, cut at a word
    end within PREVIEW_CHARS (with an ellipsis where cut)."""
    text, length = [], 0
    for spec in blocks:  # enough blocks for the preview, not the whole job
        text.append(spec.text)
        length += len(spec.text)
        if length > PREVIEW_CHARS:
            break
    words = " ".join(" ".join(text).split())
    if len(words) <= PREVIEW_CHARS:
        return words
    cut = words[: PREVIEW_CHARS + 1].rsplit(" ", 1)[0]
    return (cut if len(cut) > PREVIEW_CHARS // 2 else words[:PREVIEW_CHARS]).rstrip() + "…"


class Announcement(NamedTuple):
    """What a finished job's webhook event is made of (workers/webhooks.py)."""

    callback_url: str | None
    links_base: str | None
    duration_ms: str | None
    error: str | None
    expires_at: str | None


class JobStore(BlockRecords, JobOutcomes, JobIndexes):
    """Reads and writes job state; one instance per process, shared by its requests or tasks."""

    def __init__(
        self,
        client: redis.Redis,
        ttl_s: int,
        on_finished: Callable[[str, JobStatus], None] | None = None,
    ):
        """`on_finished(job_id, status)`: told when a job completes or fails (workers set it to
        send webhooks, workers/lifecycle.py); it may be told twice of one outcome (a
        redelivered task)."""
        self.redis = client
        self.ttl_s = ttl_s
        self.on_finished = on_finished
        self._start_block = client.register_script(START_BLOCK)
        self._queued_to_skipped = client.register_script(QUEUED_TO_SKIPPED)
        self._fail_unfinished_block = client.register_script(FAIL_UNFINISHED_BLOCK)
        self._finish_block = client.register_script(FINISH_BLOCK)
        self._create_blocks = client.register_script(CREATE_HASHES)
        self._job_and_block = client.register_script(JOB_AND_BLOCK)
        self._hashes = client.register_script(HASHES)
        self._set_existing = client.register_script(SET_WHERE_EXISTING)
        # A block's provider never changes: remembered from the read that started the block,
        # so counting the block's end reads nothing (bounded: only recent blocks)
        self._providers: dict[tuple[str, int], str] = {}

    def create(
        self,
        job_id: str,
        owner: str,
        output_format: str,
        blocks: list[BlockSpec],
        combine: bool = True,
        *,
        options: JobOptions | None = None,
        callback_url: str | None = None,
        links_base: str | None = None,
    ) -> JobRecord:
        """`combine`: False for a job of blocks alone (no combined file); `options`: its tags
        and loudness target; `callback_url`: where its outcome is POSTed; `links_base`: the
        API's base URL, for links in that event."""
        stamp, expires_at = now_iso(), int(time.time()) + self.ttl_s
        fields = {
            "owner": owner,
            "status": JobStatus.QUEUED.value,
            "n_blocks": len(blocks),
            "output_format": output_format,
            "created_at": stamp,
            "updated_at": stamp,
            "expires_at": expires_at,
            "combine": int(combine),
            **({"callback_url": callback_url} if callback_url else {}),
            **({"links_base": links_base} if callback_url and links_base else {}),
            **(options.to_fields() if options else {}),
            "preview": text_preview(blocks),
        }
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(job_key(job_id), mapping=fields)
            pipe.expireat(job_key(job_id), expires_at)
            created = time.time()
            pipe.zadd(active_jobs_key(), {job_id: created})
            # The owner's index expires with their newest job; older entries outlive their
            # jobs until a read prunes them.
            pipe.zadd(user_jobs_key(owner), {job_id: created})
            pipe.expireat(user_jobs_key(owner), expires_at)
            # every block's hash in one command (a 200-block job was 400 of them)
            args: list[str | int] = [expires_at]
            for spec in blocks:
                block = _block_fields(spec)
                args += [len(block), *(str(item) for pair in block.items() for item in pair)]
            keys = [block_key(job_id, i) for i in range(len(blocks))]
            queue_script(pipe, self._create_blocks, keys, args)
            execute(pipe)  # safe to send twice: every command sets what it writes
        return JobRecord.from_hash(job_id, {k: str(v) for k, v in fields.items()})

    def delete(self, job_id: str, n_blocks: int) -> None:
        keys = [job_key(job_id), done_key(job_id), combine_marker_key(job_id), timings_key(job_id)]
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(*keys, *(block_key(job_id, i) for i in range(n_blocks)))
            pipe.zrem(active_jobs_key(), job_id)
            pipe.execute()

    def get(self, job_id: str, owner: str | None = None, with_blocks: bool = True) -> JobRecord:
        """The job, or NotFound; a job owned by someone else is reported as not found too."""
        raw = self.redis.hgetall(job_key(job_id))
        if not raw or (owner is not None and raw.get("owner") != owner):
            raise NotFound(f"job {job_id} not found")
        job = JobRecord.from_hash(job_id, raw)
        if with_blocks:  # every block's hash in one command, however many there are
            keys = [block_key(job_id, index) for index in range(job.n_blocks)]
            found = self._hashes(keys=keys) if keys else []
            job.blocks = [
                BlockRecord.from_hash(i, _as_dict(flat)) for i, flat in enumerate(found) if flat
            ]
        return job

    def get_with_block(self, job_id: str, index: int) -> tuple[JobRecord, BlockRecord]:
        """The job (without its other blocks) and one block, in one command."""
        job_raw, block_raw = (
            _as_dict(flat)
            for flat in self._job_and_block(keys=[job_key(job_id), block_key(job_id, index)])
        )
        if not job_raw or not block_raw:
            raise NotFound(f"block {index} of job {job_id} not found")
        block = BlockRecord.from_hash(index, block_raw)
        if len(self._providers) >= REMEMBERED_PROVIDERS:
            self._providers.clear()
        self._providers[(job_id, index)] = block.spec.provider
        return JobRecord.from_hash(job_id, job_raw), block

    def neighbours(self, job: JobRecord, index: int) -> tuple[BlockRecord | None, ...]:
        """The blocks just before and after `index` (None at either end)."""
        wanted = [i for i in (index - 1, index + 1) if 0 <= i < job.n_blocks]
        with self.redis.pipeline(transaction=False) as pipe:
            for i in wanted:
                pipe.hgetall(block_key(job.id, i))
            found = dict(zip(wanted, pipe.execute(), strict=True))
        return tuple(
            BlockRecord.from_hash(i, found[i]) if found.get(i) else None
            for i in (index - 1, index + 1)
        )

    def owner_of(self, job_id: str) -> str | None:
        return self.redis.hget(job_key(job_id), "owner")

    def announcement(self, job_id: str) -> Announcement:
        return Announcement(
            *self.redis.hmget(
                job_key(job_id), "callback_url", "links_base", "duration_ms", "error", "expires_at"
            )
        )

    def hold_rest(self, job_id: str) -> None:
        """The job's blocks after the first are held until its task ends."""
        self.redis.hset(job_key(job_id), REST_HELD, "1")

    def take_held_rest(self, job_id: str) -> bool:
        """True for the one caller that takes the hold (HDEL): it sends the rest."""
        return bool(self.redis.hdel(job_key(job_id), REST_HELD))

    def count_recovery(self, job_id: str) -> None:
        self.redis.hincrby(job_key(job_id), "recoveries", 1)
