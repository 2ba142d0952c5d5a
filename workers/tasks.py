"""Celery tasks: thin wrappers that take ids, re-read state from Redis, and retry.

The work itself is in plain functions (workers/block_attempts.py, synthesis.py, combine.py,
housekeeping.py, webhooks.py); what a worker process sets up and builds once is in
workers/lifecycle.py.
"""

from __future__ import annotations

import logging

from celery.exceptions import MaxRetriesExceededError, Retry

from utils.errors import ObjectNotFound, ProviderRetryable, StorageError
from utils.jobs.liveness import Heartbeat
from utils.jobs.shared_storage import missing_block_reason, refusal_here
from utils.names import (
    CHECK_STALLED,
    COMBINE_BLOCKS,
    DELIVER_WEBHOOK,
    DISPATCH_BLOCKS,
    PROCESS_BLOCK,
    PURGE_STORAGE,
    RECOVER_LOST,
    SEND_DUE_WEBHOOKS,
)
from utils.storage.identity import storage_identity
from workers.account_slots import send_blocks
from workers.block_attempts import INFRASTRUCTURE_ERRORS, attempt_block, backoff, give_up
from workers.celery_app import app
from workers.combine import combine_job
from workers.housekeeping import check_stalled_jobs, purge_storage, recover_lost_work
from workers.lead_first import to_send_now
from workers.lifecycle import (
    takes_local_blocks,
    webhook_deliveries,
    webhook_secrets,
    worker_context,
)
from workers.metrics import count_block
from workers.webhooks import deliver, send_due

log = logging.getLogger(__name__)


@app.task(name=PROCESS_BLOCK, bind=True, acks_on_failure_or_timeout=False)
def process_block(self, job_id: str, index: int) -> None:
    ctx = worker_context()
    Heartbeat.ensure(ctx.redis, local=takes_local_blocks())
    if (refused := refusal_here()) is not None:
        _send_elsewhere(self, ctx, job_id, index, refused)
        return
    attempt_block(ctx, job_id, index, lambda exc: _retry_later(self, ctx, job_id, index, exc))


def _send_elsewhere(task, ctx, job_id: str, index: int, reason: str) -> None:
    """This process's storage is not the API's (the API announced its own after this worker
    started): the block goes back to its queue for another worker, after a heartbeat's pause,
    so a cluster whose every worker is refused waits for its operator rather than spinning."""
    log.error("block %d of job %s left for another worker: %s", index, job_id, reason)
    queue = (task.request.delivery_info or {}).get("routing_key")
    if not queue:
        queue = ctx.providers.queue_for(ctx.jobs.get_with_block(job_id, index)[1].spec.provider)
    ctx.queue.resend_block(job_id, index, queue, countdown=Heartbeat.every_s)


def _retry_later(task, ctx, job_id: str, index: int, exc: ProviderRetryable) -> None:
    """The block's retry policy: Celery's retry after a backoff (never sooner than the
    provider's Retry-After), up to PROVIDER_MAX_RETRIES, then the block fails."""
    settings = ctx.settings
    ctx.jobs.not_running(job_id, index)
    try:
        raise task.retry(
            countdown=backoff(settings, task.request.retries, exc),
            max_retries=settings.PROVIDER_MAX_RETRIES,
        )
    except Retry:
        count_block(ctx.jobs, job_id, index, "retried")
        raise
    except MaxRetriesExceededError:
        give_up(ctx, job_id, index, exc, task.request.retries + 1)


@app.task(name=DISPATCH_BLOCKS)
def dispatch_blocks(job_id: str, indices: list[int]) -> None:
    """Fan a job out into its block tasks here, so the API sends one message per job.

    Accepting a job then costs the API the same for 1 block as for 200. If this task runs
    twice (a redelivery), blocks are sent twice, which their idempotence makes harmless.
    """
    ctx = worker_context()
    job = ctx.jobs.get(job_id)
    if job.status.finished:  # cancelled before its blocks went out
        return
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
        # rule: a job's audio is purged only long after its combine. Named: the worker.
        here = storage_identity(ctx.settings.storage)
        key = str(exc).removesuffix(" is not in storage")
        reason = missing_block_reason(ctx.redis, job_id, key, here)
        log.warning("combine of job %s: %s", job_id, reason)
        ctx.jobs.fail(job_id, reason)
    except StorageError as exc:  # a full disk, say: the job says so (its retry combines again)
        log.warning("combine of job %s: %s", job_id, exc)
        ctx.jobs.fail(job_id, f"could not combine the blocks: {exc}")
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
    deliver(
        ctx.settings, ctx.jobs, webhook_deliveries(), webhook_secrets(), job_id, event, n_attempts
    )


@app.task(name=SEND_DUE_WEBHOOKS)
def send_due_webhooks() -> int:
    ctx = worker_context()
    return send_due(webhook_deliveries(), ctx.queue, ctx.settings)
