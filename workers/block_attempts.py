"""One attempt at a block, however it started: by its task (workers/tasks.py process_block) or
where its slot was freed (workers/direct_handoff.py). What the attempt ends in is decided here:
made and counted, with the combine sent after the last block; or failed, retried later, or
left for the broker to deliver again, by what went wrong.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import redis
from celery.exceptions import SoftTimeLimitExceeded
from kombu.exceptions import OperationalError

from utils.errors import ProviderError, ProviderRetryable, ServiceError, Unavailable
from utils.jobs.liveness import Heartbeat
from utils.logs import bind_fields, current_fields, reset_fields
from workers.cancelled_blocks import cancelled_meanwhile
from workers.context import WorkerContext
from workers.lead_first import lead_ended
from workers.log_fields import handed_block_fields
from workers.metrics import count_block
from workers.synthesis import Outcome, synthesize_block

log = logging.getLogger(__name__)

# How a block's task ended, as counted (tts_blocks_total); waiting for a slot is not an end.
BLOCK_OUTCOMES = {
    Outcome.STORED: "completed",
    Outcome.COMBINE: "completed",
    Outcome.SKIPPED: "skipped",
}

# Redis or the broker gone for longer than the client waits (REDIS_OUTAGE_PATIENCE_S): not the
# block's fault, so the block is not failed; its task is left unacknowledged for the broker to
# deliver again.
INFRASTRUCTURE_ERRORS = (redis.ConnectionError, redis.TimeoutError, OperationalError)

# retry(exc): schedule another attempt of a block that failed retryably
Retry = Callable[[ProviderRetryable], None]


def retry_delay(
    attempt: int, retry_after_s: float | None, base_s: float = 1.0, cap_s: float = 60.0
) -> float:
    """Exponential backoff with full jitter, never sooner than the provider's Retry-After."""
    backoff = random.uniform(0, min(cap_s, base_s * 2**attempt))
    return max(backoff, retry_after_s or 0.0)


def backoff(settings, retries: int, exc: ProviderRetryable) -> float:
    return retry_delay(
        retries, exc.retry_after_s, settings.RETRY_BACKOFF_BASE_S, settings.RETRY_BACKOFF_CAP_S
    )


def attempt_block(ctx: WorkerContext, job_id: str, index: int, retry: Retry) -> None:
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
        count_block(ctx.jobs, job_id, index, BLOCK_OUTCOMES[outcome])
    if outcome == Outcome.COMBINE:
        try:
            ctx.queue.combine(job_id)
        except (*INFRASTRUCTURE_ERRORS, Unavailable):
            # The block is made and counted; only the combine is unsent. Let whoever runs this
            # block again (a redelivery) send it, or beat's stall check, which sends it for a
            # job whose every block is made.
            ctx.jobs.reopen_combine(job_id)
            raise


def _handle_failure(ctx, job_id: str, index: int, exc: Exception, retry: Retry) -> None:
    """Fail the block, retry it later, or leave it to the broker, by what went wrong."""
    if not isinstance(exc, INFRASTRUCTURE_ERRORS) and cancelled_meanwhile(ctx, job_id, index):
        return  # its job was cancelled: nothing to fail or retry
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
    count_block(ctx.jobs, job_id, index, "failed")


def _past_time_limit(exc: BaseException | None) -> bool:
    """Whether the soft time limit is behind `exc`: an SDK that catches every exception turns
    it into its own (a connection error, say), which must not pass for a retryable fault."""
    while exc is not None:
        if isinstance(exc, SoftTimeLimitExceeded):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def give_up(ctx, job_id: str, index: int, exc: ProviderRetryable, attempts: int) -> None:
    ctx.jobs.fail_block(job_id, index, f"{exc} (gave up after {attempts} attempts)")
    count_block(ctx.jobs, job_id, index, "failed")


def make_handed_block(
    ctx: WorkerContext, job_id: str, index: int, queue: str, local: bool = False
) -> None:
    """A block handed a slot freed in this process, made here rather than sent through the
    broker (workers/direct_handoff.py). With no message of its own, what the broker would do
    for it is done by sending one: a retry, after its delay; a block cut short by Redis or the
    broker going away, at once (sending waits out an outage up to REDIS_OUTAGE_PATIENCE_S).
    `local`: this process takes local blocks (it counts in the local pool)."""
    # the slot may have been freed by housekeeping here, before this process made any block:
    # its heartbeat must beat before a block is recorded as running in it
    Heartbeat.ensure(ctx.redis, local=local)
    token = bind_fields(**handed_block_fields(current_fields(), job_id, index))
    try:
        attempt_block(
            ctx, job_id, index, lambda exc: _retry_by_message(ctx, job_id, index, queue, exc)
        )
    except (*INFRASTRUCTURE_ERRORS, Unavailable) as exc:
        log.warning("block %d of job %s: %s; sending it again", index, job_id, exc)
        ctx.queue.resend_block(job_id, index, queue)
    finally:
        reset_fields(token)


def _retry_by_message(ctx, job_id: str, index: int, queue: str, exc: ProviderRetryable) -> None:
    """A retry of a block that had no task of its own: a task sent to run after the delay, as
    Celery's retry of the first attempt would be."""
    settings = ctx.settings
    if settings.PROVIDER_MAX_RETRIES < 1:
        give_up(ctx, job_id, index, exc, 1)
        return
    ctx.jobs.not_running(job_id, index)
    ctx.queue.resend_block(job_id, index, queue, countdown=backoff(settings, 0, exc), retries=1)
    count_block(ctx.jobs, job_id, index, "retried")
