"""A block's hold on its provider account's slots (utils/accounts/slots.py), from the worker's
side: take a slot or wait in line, give it back and re-send the blocks handed it, and re-send
the blocks whose handoff was stranded by a worker that died."""

from __future__ import annotations

import logging
from contextlib import contextmanager

from config import ProviderConfig
from utils.accounts.slots import holder_id, parse_holder
from utils.jobs.models import JobRecord
from workers.context import WorkerContext
from workers.providers import TTSProvider

log = logging.getLogger(__name__)

# A lease outlives the longest request by this much before a crashed holder's slot frees.
LEASE_MARGIN_S = 30.0


@contextmanager
def account_slot(ctx: WorkerContext, provider: TTSProvider, job: JobRecord, index: int):
    """Hold one of the account's slots while inside; yields False when queued to wait instead
    (in turn with the other users' and jobs' blocks)."""
    limit = provider.config.concurrency
    if limit is None:
        yield True
        return
    acquired = ctx.slots.acquire(
        provider.name, holder_id(job.id, index), limit, lease_s(provider.config), job.owner
    )
    _resend_all(ctx, acquired.dispatch)
    if not acquired.granted:
        yield False
        return
    try:
        yield True
    finally:
        release_slot(ctx, provider.name, job.id, index)


def release_slot(ctx: WorkerContext, account: str, job_id: str, index: int) -> None:
    """Give back the block's slot on the account, if it holds one, and re-send the blocks that
    were waiting and are handed the freed slot.

    Also called where a block turns out not to need a slot it may have been handed while it
    waited (its job ended, or it was made meanwhile), so the slot passes on at once rather than
    idling until its lease runs out."""
    config = ctx.settings.PROVIDERS.get(account)
    if config is None or config.concurrency is None:
        return
    handed = ctx.slots.release(
        account, holder_id(job_id, index), config.concurrency, lease_s(config)
    )
    _resend_all(ctx, handed)


def resend_stranded_blocks(ctx: WorkerContext, grace_s: float) -> list[str]:
    """Send again the blocks that were handed an account slot more than `grace_s` ago and whose
    task never started (the worker handing it over died before re-sending it)."""
    stranded = []
    for name, config in ctx.settings.PROVIDERS.items():
        if config.concurrency is not None:
            stranded += ctx.slots.stranded(name, grace_s)
    for holder in stranded:
        log.warning("block %s was handed a slot but never started; sending it again", holder)
    _resend_all(ctx, stranded)
    return stranded


def lease_s(config: ProviderConfig) -> float:
    return config.timeout_s + LEASE_MARGIN_S


def _resend_all(ctx: WorkerContext, holders: list[str]) -> None:
    for holder in holders:
        ctx.queue.resend_block(*parse_holder(holder))
