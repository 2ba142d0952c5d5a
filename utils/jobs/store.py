"""Job state in Redis: every read and write of a job goes through JobStore (key names are in
utils/names.py, statuses in utils/jobs/models.py).

    tts:job:{id}               hash: owner, status, n_blocks, output_format, timestamps,
                               storage_key, duration_ms, error, expires_at; where asked,
                               title, author, album, loudness_lufs, true_peak_db;
                               callback_url and links_base (a job with a webhook:
                               workers/webhooks.py)
    tts:job:{id}:block:{i}     hash: the block's request (text, provider, voice, speed,
                               wait_after_ms; client_id, model, instructions, speaker, chapter
                               where given) and its progress (status, attempts, storage_key,
                               n_samples, n_frames, duration_ms, start_ms, end_ms, error;
                               lufs_before, lufs_after, gain_db, true_peak_after)
    tts:job:{id}:done          set of finished block indices
    tts:job:{id}:timings       hash: block index -> the block's timings (utils/audio/timings.py),
                               written by finish_block from the result's "timings"
    tts:job:{id}:combine       marker: SET NX by the one task that enqueues the combine
    tts:jobs:active            zset: job id -> created time, for jobs not yet finished
                               (where the stall check looks)
    tts:user:{name}:jobs       zset: the owner's jobs, job id -> created time (GET /jobs,
                               read by utils/jobs/listing.py)

Finishing a block is SADD, then SCARD == n_blocks, then SET NX on the marker, so a redelivered
task adds the same index again (the count never runs ahead) and exactly one task enqueues the
combine however many race. Every key of a job expires at the same instant (`expires_at`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import redis

from utils.clock import now_iso
from utils.errors import NotFound
from utils.jobs.models import (
    BlockRecord,
    BlockSpec,
    BlockStatus,
    JobOptions,
    JobRecord,
    JobStatus,
)
from utils.metrics import JOBS
from utils.names import (
    active_jobs_key,
    block_key,
    combine_marker_key,
    done_key,
    job_events_channel,
    job_key,
    running_blocks_key,
    running_field,
    timings_key,
    user_jobs_key,
)

log = logging.getLogger(__name__)


class JobStore:
    """Reads and writes job state; one instance per process, shared by its requests or tasks."""

    def __init__(
        self,
        client: redis.Redis,
        ttl_s: int,
        on_finished: Callable[[str, JobStatus], None] | None = None,
    ):
        """`on_finished(job_id, status)`: told when a job completes or fails (workers set it to
        send webhooks); it may be told twice of one outcome (a redelivered task)."""
        self.redis = client
        self.ttl_s = ttl_s
        self.on_finished = on_finished
        # queued -> processing, inside the block's start: every block's first task asks.
        self._queued_to_processing = client.register_script(
            "if redis.call('HGET', KEYS[1], 'status') == 'queued' then "
            "redis.call('HSET', KEYS[1], 'status', 'processing', 'updated_at', ARGV[1]) end"
        )
        self._queued_to_skipped = client.register_script(
            "if redis.call('HGET', KEYS[1], 'status') == 'queued' then "
            "redis.call('HSET', KEYS[1], 'status', 'skipped') end"
        )
        # KEYS: block, running blocks. ARGV: error, running field. 1 if the block was failed.
        self._fail_unfinished_block = client.register_script(
            "local status = redis.call('HGET', KEYS[1], 'status') "
            "if status == false or status == 'completed' then return 0 end "
            "redis.call('HSET', KEYS[1], 'status', 'failed', 'error', ARGV[1]) "
            "redis.call('HDEL', KEYS[2], ARGV[2]) "
            "return 1"
        )

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
            for index, spec in enumerate(blocks):
                key = block_key(job_id, index)
                pipe.hset(
                    key,
                    mapping={
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
                    },
                )
                pipe.expireat(key, expires_at)
            pipe.execute()
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
        if with_blocks:
            with self.redis.pipeline(transaction=False) as pipe:
                for index in range(job.n_blocks):
                    pipe.hgetall(block_key(job_id, index))
                job.blocks = [
                    BlockRecord.from_hash(i, b) for i, b in enumerate(pipe.execute()) if b
                ]
        return job

    def get_with_block(self, job_id: str, index: int) -> tuple[JobRecord, BlockRecord]:
        """The job (without its other blocks) and one block, in one round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(job_key(job_id))
            pipe.hgetall(block_key(job_id, index))
            job_raw, block_raw = pipe.execute()
        if not job_raw or not block_raw:
            raise NotFound(f"block {index} of job {job_id} not found")
        return JobRecord.from_hash(job_id, job_raw), BlockRecord.from_hash(index, block_raw)

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

    def start_block(self, job: JobRecord, index: int, worker: str = "") -> None:
        """The block is being made by `worker` (utils/jobs/liveness.py), which beat watches."""
        stamp = now_iso()
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                block_key(job.id, index),
                mapping={
                    "status": BlockStatus.PROCESSING.value,
                    "worker": worker,
                    "started_at": stamp,
                },
            )
            pipe.hincrby(block_key(job.id, index), "attempts", 1)
            pipe.hset(job_key(job.id), "updated_at", stamp)
            pipe.hset(running_blocks_key(), running_field(job.id, index), worker)
            if job.status == JobStatus.QUEUED:
                # before the notification, so whoever it wakes reads the job as processing
                self._queued_to_processing(keys=[job_key(job.id)], args=[stamp], client=pipe)
            _publish(pipe, job.id, block=index, status=BlockStatus.PROCESSING)
            pipe.execute()

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
            pipe.hdel(running_blocks_key(), running_field(job.id, index))
            _publish(pipe, job.id, block=index, status=BlockStatus.COMPLETED)
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
            self.fail(job_id, f"block {index}: {error}")

    def count_recovery(self, job_id: str) -> None:
        self.redis.hincrby(job_key(job_id), "recoveries", 1)

    def not_running(self, job_id: str, index: int) -> None:
        """The block's task will run again later (a provider retry): no process holds it."""
        self.redis.hdel(running_blocks_key(), running_field(job_id, index))

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
            for index, (start_ms, end_ms) in enumerate(offsets):
                pipe.hset(
                    block_key(job.id, index), mapping={"start_ms": start_ms, "end_ms": end_ms}
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
            pipe.zrem(active_jobs_key(), job.id)
            _publish(pipe, job.id, status=JobStatus.COMPLETED)
            pipe.execute()
        self._announce(job.id, JobStatus.COMPLETED)
        JOBS.labels("completed").inc()

    def fail(self, job_id: str, error: str) -> None:
        """Mark the job failed, keeping the first reason; a completed job stays completed."""
        key = job_key(job_id)

        def mark(pipe: redis.client.Pipeline) -> bool:
            status = pipe.hget(key, "status")
            if status in (None, JobStatus.COMPLETED.value):
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
                self._queued_to_skipped(keys=[block_key(job_id, index)], client=pipe)
            pipe.execute()

    def _set_status_unless_finished(self, job_id: str, new: JobStatus) -> None:
        key = job_key(job_id)

        def move(pipe: redis.client.Pipeline) -> None:
            current = pipe.hget(key, "status")
            if current is None or JobStatus(current).finished:
                return
            pipe.multi()
            pipe.hset(key, mapping={"status": new.value, "updated_at": now_iso()})

        self.redis.transaction(move, key)


def _publish(pipe: redis.client.Pipeline, job_id: str, **event: str | int) -> None:
    """Tell whoever listens (progressive streams, event feeds) what changed, as it changes."""
    pipe.publish(job_events_channel(job_id), json.dumps(event))
