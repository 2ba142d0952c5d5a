"""Celery tasks: thin wrappers that take ids, re-read state from Redis, and retry.

The work itself is in workers/synthesis.py, workers/combine.py and workers/housekeeping.py.
"""

from __future__ import annotations

import logging
import os
import random
from functools import lru_cache

import redis
from celery.exceptions import MaxRetriesExceededError, Retry, SoftTimeLimitExceeded
from celery.signals import worker_init, worker_process_init, worker_shutdown
from kombu.exceptions import OperationalError

from utils.accounts.user_accounts import cipher_from
from utils.cpus import usable_cpus
from utils.errors import (
    ObjectNotFound,
    ProviderError,
    ProviderRetryable,
    ServiceError,
    Unavailable,
)
from utils.jobs.liveness import Heartbeat
from utils.logs import bind_fields, current_fields, reset_fields
from utils.names import (
    CHECK_STALLED,
    COMBINE_BLOCKS,
    DELIVER_WEBHOOK,
    DISPATCH_BLOCKS,
    LOCAL_BLOCKS_QUEUE,
    PROCESS_BLOCK,
    PURGE_STORAGE,
    RECOVER_LOST,
    SEND_DUE_WEBHOOKS,
)
from utils.webhooks.deliveries import Deliveries
from utils.webhooks.signing_secrets import WebhookSecrets
from workers import cpu_lane, direct_handoff
from workers.account_slots import send_blocks
from workers.celery_app import app
from workers.combine import combine_job
from workers.context import worker_context
from workers.cpu_lane import CPU_WORK_NICENESS
from workers.housekeeping import check_stalled_jobs, purge_storage, recover_lost_work
from workers.lead_first import lead_ended, to_send_now
from workers.metrics import count_block
from workers.synthesis import Outcome, synthesize_block
from workers.webhooks import deliver, send_due

log = logging.getLogger(__name__)
# The SDKs' HTTP client logs every request at INFO: at hundreds of calls a second that is noise,
# and a lock every thread of the network pool waits on. Failures are logged as block errors.
logging.getLogger("httpx").setLevel(logging.WARNING)

# How a block's task ended, as counted (tts_blocks_total); waiting for a slot is not an end.
BLOCK_OUTCOMES = {
    Outcome.STORED: "completed",
    Outcome.COMBINE: "completed",
    Outcome.SKIPPED: "skipped",
}


def retry_delay(
    attempt: int, retry_after_s: float | None, base_s: float = 1.0, cap_s: float = 60.0
) -> float:
    """Exponential backoff with full jitter, never sooner than the provider's Retry-After."""
    backoff = random.uniform(0, min(cap_s, base_s * 2**attempt))
    return max(backoff, retry_after_s or 0.0)


@worker_process_init.connect
def start_local_process(**_) -> None:
    """A process of a pool that takes local blocks counts itself in the local pool at once (so
    slots exist before its first block) and loads the default voice before a block waits."""
    if not takes_local_blocks():
        return
    # CPU-bound synthesis yields to the network pool: a cloud block whose audio has arrived
    # (or that was handed a slot) must not wait for a core while the account's slot idles.
    os.nice(CPU_WORK_NICENESS)
    ctx = worker_context()
    Heartbeat.ensure(ctx.redis, local=True)
    try:
        ctx.providers.get(ctx.settings.DEFAULT_PROVIDER).warm_up()
    except Exception:  # a provider that cannot warm up now will say why on its first block
        log.warning("could not warm up %s", ctx.settings.DEFAULT_PROVIDER, exc_info=True)


@worker_init.connect
def start_network_process(sender=None, **_) -> None:
    """A worker running its tasks on threads (the network pool) starts the blocks handed the
    slots it frees itself, and runs their CPU work on its low-priority lane."""
    if sender is None or not _runs_on_threads(sender.pool_cls):
        return
    _build_cloud_providers(worker_context())
    cpu_lane.open_lane(usable_cpus())
    # as many threads for handed blocks as the pool has for tasks: each is one slot's call
    threads = sender.concurrency if isinstance(sender.concurrency, int) else 0  # or "auto"
    direct_handoff.serve(make_handed_block, threads or usable_cpus())


def _build_cloud_providers(ctx) -> None:
    """Each cloud provider's SDK imported and client built before the first block: imported by
    a first block instead, it would hold up that block's request by a second or more."""
    for name in ctx.providers.names():
        try:
            if not ctx.providers.runs_locally(name):
                ctx.providers.get(name).warm_up()
        except Exception:  # a provider that cannot be built now will say why on its first block
            log.warning("could not prepare provider %s", name, exc_info=True)


@worker_shutdown.connect
def stop_network_process(**_) -> None:
    """Blocks started here end before the process does (their slots handed on by message)."""
    direct_handoff.stop()
    cpu_lane.close_lane()


def _runs_on_threads(pool_cls) -> bool:
    # an alias from the command line ("threads") or the pool's class
    name = pool_cls if isinstance(pool_cls, str) else getattr(pool_cls, "__module__", "")
    return name in ("threads", "celery.concurrency.thread")


def takes_local_blocks() -> bool:
    """Whether this worker consumes the local blocks' queue (its -Q)."""
    return LOCAL_BLOCKS_QUEUE in app.amqp.queues.consume_from


# Redis or the broker gone for longer than the client waits (REDIS_OUTAGE_PATIENCE_S): not the
# block's fault, so the block is not failed; its task is left unacknowledged for the broker to
# deliver again.
INFRASTRUCTURE_ERRORS = (redis.ConnectionError, redis.TimeoutError, OperationalError)
MISSING_BLOCK_HINT = (
    "a block's audio is not where the combine ran; workers on more than one machine need "
    "shared storage (STORAGE_BACKEND=s3 or cloudinary)"
)


@app.task(name=PROCESS_BLOCK, bind=True, acks_on_failure_or_timeout=False)
def process_block(self, job_id: str, index: int) -> None:
    ctx = worker_context()
    Heartbeat.ensure(ctx.redis, local=takes_local_blocks())
    _make_block(ctx, job_id, index, lambda exc: _retry_later(self, ctx, job_id, index, exc))


def make_handed_block(job_id: str, index: int, queue: str) -> None:
    """A block handed a slot freed in this process, made here rather than sent through the
    broker (workers/direct_handoff.py). With no message of its own, what the broker would do
    for it is done by sending one: a retry, after its delay; a block cut short by Redis or the
    broker going away, at once (sending waits out an outage up to REDIS_OUTAGE_PATIENCE_S)."""
    ctx = worker_context()
    # the slot may have been freed by housekeeping here, before this process made any block:
    # its heartbeat must beat before a block is recorded as running in it
    Heartbeat.ensure(ctx.redis, local=takes_local_blocks())
    token = bind_fields(**handed_block_fields(current_fields(), job_id, index))
    try:
        _make_block(
            ctx, job_id, index, lambda exc: _retry_by_message(ctx, job_id, index, queue, exc)
        )
    except (*INFRASTRUCTURE_ERRORS, Unavailable) as exc:
        log.warning("block %d of job %s: %s; sending it again", index, job_id, exc)
        ctx.queue.resend_block(job_id, index, queue)
    finally:
        reset_fields(token)


def handed_block_fields(releaser: dict, job_id: str, index: int) -> dict:
    """The log fields of a block started where its slot was freed, as its task's would be
    (workers/signals.py): the request id and user carry over only within the same job."""
    same_job = releaser.get("job_id") == job_id
    return {
        "request_id": releaser.get("request_id") if same_job else None,
        "user": releaser.get("user") if same_job else None,
        "task": PROCESS_BLOCK,
        "job_id": job_id,
        "block": index,
    }


def _make_block(ctx, job_id: str, index: int, retry) -> None:
    """Make the block; count it, send the combine after the last one, and handle a failure
    (`retry(exc)` schedules another attempt of a retryable one)."""
    try:
        outcome = synthesize_block(ctx, job_id, index)
    except Exception as exc:
        if not isinstance(exc, INFRASTRUCTURE_ERRORS):  # else the task runs again, later
            lead_ended(ctx, job_id, index)
        _handle_failure(ctx, job_id, index, exc, retry)
        return
    if outcome != Outcome.WAITING:
        lead_ended(ctx, job_id, index)
    if outcome in BLOCK_OUTCOMES:
        count_block(ctx.redis, job_id, index, BLOCK_OUTCOMES[outcome])
    if outcome == Outcome.COMBINE:
        try:
            ctx.queue.combine(job_id)
        except (*INFRASTRUCTURE_ERRORS, Unavailable):
            # The block is made and counted; only the combine is unsent. Let whoever runs this
            # block again (a redelivery) send it, or beat's stall check, which sends it for a
            # job whose every block is made.
            ctx.jobs.reopen_combine(job_id)
            raise


def _handle_failure(ctx, job_id: str, index: int, exc: Exception, retry) -> None:
    """Fail the block, retry it later, or leave it to the broker, by what went wrong."""
    if _past_time_limit(exc):
        limit = ctx.settings.BLOCK_TIME_LIMIT
        ctx.jobs.fail_block(job_id, index, f"took longer than BLOCK_TIME_LIMIT ({limit} s)")
    elif isinstance(exc, ProviderRetryable):
        retry(exc)
        return
    elif isinstance(exc, INFRASTRUCTURE_ERRORS):
        log.warning("block %d of job %s: %s; left for redelivery", index, job_id, exc)
        raise exc
    elif isinstance(exc, ProviderError | ServiceError | ValueError):
        ctx.jobs.fail_block(job_id, index, str(exc))
    else:
        log.error("block %d of job %s failed unexpectedly", index, job_id, exc_info=exc)
        ctx.jobs.fail_block(job_id, index, "internal error while synthesizing this block")
    count_block(ctx.redis, job_id, index, "failed")


def _past_time_limit(exc: BaseException | None) -> bool:
    """Whether the soft time limit is behind `exc`: an SDK that catches every exception turns
    it into its own (a connection error, say), which must not pass for a retryable fault."""
    while exc is not None:
        if isinstance(exc, SoftTimeLimitExceeded):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _retry_later(task, ctx, job_id: str, index: int, exc: ProviderRetryable) -> None:
    settings = ctx.settings
    ctx.jobs.not_running(job_id, index)
    try:
        raise task.retry(
            countdown=_backoff(settings, task.request.retries, exc),
            max_retries=settings.PROVIDER_MAX_RETRIES,
        )
    except Retry:
        count_block(ctx.redis, job_id, index, "retried")
        raise
    except MaxRetriesExceededError:
        _give_up(ctx, job_id, index, exc, task.request.retries + 1)


def _retry_by_message(ctx, job_id: str, index: int, queue: str, exc: ProviderRetryable) -> None:
    """A retry of a block that had no task of its own: a task sent to run after the delay, as
    Celery's retry of the first attempt would be."""
    settings = ctx.settings
    if settings.PROVIDER_MAX_RETRIES < 1:
        _give_up(ctx, job_id, index, exc, 1)
        return
    ctx.jobs.not_running(job_id, index)
    ctx.queue.resend_block(job_id, index, queue, countdown=_backoff(settings, 0, exc), retries=1)
    count_block(ctx.redis, job_id, index, "retried")


def _backoff(settings, retries: int, exc: ProviderRetryable) -> float:
    return retry_delay(
        retries, exc.retry_after_s, settings.RETRY_BACKOFF_BASE_S, settings.RETRY_BACKOFF_CAP_S
    )


def _give_up(ctx, job_id: str, index: int, exc: ProviderRetryable, attempts: int) -> None:
    ctx.jobs.fail_block(job_id, index, f"{exc} (gave up after {attempts} attempts)")
    count_block(ctx.redis, job_id, index, "failed")


@app.task(name=DISPATCH_BLOCKS)
def dispatch_blocks(job_id: str, indices: list[int]) -> None:
    """Fan a job out into its block tasks here, so the API sends one message per job.

    Accepting a job then costs the API the same for 1 block as for 200. If this task runs
    twice (a redelivery), blocks are sent twice, which their idempotence makes harmless.
    """
    ctx = worker_context()
    job = ctx.jobs.get(job_id)
    send_blocks(ctx, job, to_send_now(ctx, job, indices))


@app.task(name=COMBINE_BLOCKS, acks_on_failure_or_timeout=False)
def combine_blocks(job_id: str) -> None:
    ctx = worker_context()
    try:
        combine_job(ctx, job_id)
    except INFRASTRUCTURE_ERRORS as exc:
        log.warning("combine of job %s: %s; left for redelivery", job_id, exc)
        raise
    except ObjectNotFound as exc:
        # Made on another machine into that machine's own disk (STORAGE_BACKEND=local), as a
        # rule: a job's audio is purged only long after its combine.
        log.warning("combine of job %s: %s", job_id, exc)
        ctx.jobs.fail(job_id, f"{exc}: {MISSING_BLOCK_HINT}")
    except Exception:
        log.exception("combine of job %s failed", job_id)
        ctx.jobs.fail(job_id, "internal error while combining the blocks")


@app.task(name=PURGE_STORAGE)
def purge_expired() -> dict[str, int]:
    return purge_storage(worker_context())


@app.task(name=CHECK_STALLED)
def check_stalled() -> list[str]:
    return check_stalled_jobs(worker_context())


@app.task(name=RECOVER_LOST)
def recover_lost() -> list[tuple[str, int]]:
    ctx = worker_context()
    return recover_lost_work(ctx, ctx.settings.HANDOFF_GRACE_S)


@app.task(name=DELIVER_WEBHOOK)
def deliver_webhook(job_id: str, event: str, n_attempts: int) -> None:
    """One attempt; its retry is scheduled in Redis (workers/webhooks.py), not by Celery."""
    ctx = worker_context()
    deliver(ctx.settings, _deliveries(), _webhook_secrets(), job_id, event, n_attempts)


@app.task(name=SEND_DUE_WEBHOOKS)
def send_due_webhooks() -> int:
    ctx = worker_context()
    return send_due(_deliveries(), ctx.queue, ctx.settings)


@lru_cache
def _deliveries() -> Deliveries:
    return Deliveries(worker_context().redis)


@lru_cache
def _webhook_secrets() -> WebhookSecrets:
    ctx = worker_context()
    return WebhookSecrets(ctx.redis, cipher_from(ctx.settings))
