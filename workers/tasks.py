"""Celery tasks: thin wrappers that take ids, re-read state from Redis, and retry.

The work itself is in workers/synthesis.py, workers/combine.py, workers/account_slots.py and
workers/housekeeping.py.
"""

from __future__ import annotations

import logging
import random

from celery.exceptions import MaxRetriesExceededError
from celery.signals import worker_process_init

from utils.errors import ProviderError, ProviderRetryable, ServiceError
from utils.names import (
    COMBINE_BLOCKS,
    DISPATCH_BLOCKS,
    FAIL_STALLED,
    PROCESS_BLOCK,
    PURGE_STORAGE,
    RESEND_STRANDED,
)
from workers.account_slots import resend_stranded_blocks
from workers.celery_app import app
from workers.combine import combine_job
from workers.context import worker_context
from workers.housekeeping import fail_stalled_jobs, purge_storage
from workers.synthesis import Outcome, synthesize_block

log = logging.getLogger(__name__)


def retry_delay(
    attempt: int, retry_after_s: float | None, base_s: float = 1.0, cap_s: float = 60.0
) -> float:
    """Exponential backoff with full jitter, never sooner than the provider's Retry-After."""
    backoff = random.uniform(0, min(cap_s, base_s * 2**attempt))
    return max(backoff, retry_after_s or 0.0)


@worker_process_init.connect
def warm_up_default_provider(**_) -> None:
    """Load the default voice as each pool process starts, not when its first block arrives."""
    ctx = worker_context()
    try:
        ctx.providers.get(ctx.settings.DEFAULT_PROVIDER).warm_up()
    except Exception:  # a provider that cannot warm up now will say why on its first block
        log.warning("could not warm up %s", ctx.settings.DEFAULT_PROVIDER, exc_info=True)


@app.task(name=PROCESS_BLOCK, bind=True)
def process_block(self, job_id: str, index: int) -> None:
    ctx = worker_context()
    try:
        if synthesize_block(ctx, job_id, index) == Outcome.COMBINE:
            ctx.queue.combine(job_id)
    except ProviderRetryable as exc:
        settings = ctx.settings
        delay = retry_delay(
            self.request.retries,
            exc.retry_after_s,
            settings.RETRY_BACKOFF_BASE_S,
            settings.RETRY_BACKOFF_CAP_S,
        )
        try:
            raise self.retry(countdown=delay, max_retries=settings.PROVIDER_MAX_RETRIES)
        except MaxRetriesExceededError:
            ctx.jobs.fail_block(
                job_id, index, f"{exc} (gave up after {self.request.retries + 1} attempts)"
            )
    except (ProviderError, ServiceError, ValueError) as exc:
        ctx.jobs.fail_block(job_id, index, str(exc))
    except Exception:
        log.exception("block %d of job %s failed unexpectedly", index, job_id)
        ctx.jobs.fail_block(job_id, index, "internal error while synthesizing this block")


@app.task(name=DISPATCH_BLOCKS)
def dispatch_blocks(job_id: str, indices: list[int]) -> None:
    """Fan a job out into its block tasks here, so the API sends one message per job.

    Accepting a job then costs the API the same for 1 block as for 200. If this task runs
    twice (a redelivery), blocks are sent twice, which their idempotence makes harmless.
    """
    worker_context().queue.blocks(job_id, indices)


@app.task(name=COMBINE_BLOCKS)
def combine_blocks(job_id: str) -> None:
    ctx = worker_context()
    try:
        combine_job(ctx, job_id)
    except Exception:
        log.exception("combine of job %s failed", job_id)
        ctx.jobs.fail(job_id, "internal error while combining the blocks")


@app.task(name=PURGE_STORAGE)
def purge_expired() -> dict[str, int]:
    return purge_storage(worker_context())


@app.task(name=FAIL_STALLED)
def fail_stalled() -> list[str]:
    return fail_stalled_jobs(worker_context())


@app.task(name=RESEND_STRANDED)
def resend_stranded() -> list[str]:
    ctx = worker_context()
    return resend_stranded_blocks(ctx, ctx.settings.HANDOFF_GRACE_S)
