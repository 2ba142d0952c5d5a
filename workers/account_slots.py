"""A block's hold on a slot (utils/accounts/slots.py), from the worker's side: take one or wait
in line, give it back and start the blocks handed it (in this process where it can, see
workers/direct_handoff.py), and re-send the blocks whose handoff was stranded by a worker that
died.

Two kinds of slots. A cloud account's: its configured `concurrency`, shared by every worker on
every machine. The local pool's (LOCAL_POOL): one per live local worker process, counted from
their heartbeats (utils/jobs/liveness.py), so that local blocks too are served in turns
between users and jobs rather than in the order they were queued.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass

from utils.accounts.slots import SlotRequest, holder_id, parse_holder
from utils.accounts.user_accounts import split_qualified
from utils.errors import ConfigurationError
from utils.jobs.liveness import local_pool_size
from utils.jobs.models import JobRecord
from utils.metrics import SLOT_HANDOFFS
from utils.names import LOCAL_BLOCKS_QUEUE, LOCAL_POOL
from workers import direct_handoff
from workers.context import WorkerContext
from workers.providers import TTSProvider

log = logging.getLogger(__name__)

# A lease outlives the longest request by this much before a crashed holder's slot frees.
LEASE_MARGIN_S = 30.0


@dataclass(frozen=True)
class Slots:
    account: str
    limit: int
    lease_s: float
    queue: str  # where a block handed one of these slots is re-sent


def slots_for(ctx: WorkerContext, provider_name: str) -> Slots | None:
    """The slots a block of this provider takes; None for an account with no limit."""
    if provider_name == LOCAL_POOL or ctx.providers.runs_locally(provider_name):
        # A local block may run as long as a task may; its slot is freed sooner if its
        # process dies (beat sees the heartbeat stop).
        lease = ctx.settings.hard_time_limit + LEASE_MARGIN_S
        return Slots(LOCAL_POOL, local_pool_size(ctx.redis), lease, LOCAL_BLOCKS_QUEUE)
    try:
        config = ctx.providers.config(provider_name)
    except ConfigurationError:
        if split_qualified(provider_name) is None:
            return None
        # A user's account deleted meanwhile: its line drains one block at a time, each
        # handed block failing at once as it finds the account gone.
        return Slots(provider_name, 1, LEASE_MARGIN_S, ctx.providers.queue_for(provider_name))
    if config.concurrency is None:
        return None
    lease = config.timeout_s + LEASE_MARGIN_S
    return Slots(provider_name, config.concurrency, lease, ctx.providers.queue_for(provider_name))


@contextmanager
def account_slot(ctx: WorkerContext, provider: TTSProvider, job: JobRecord, index: int):
    """Hold a slot while inside; yields False when queued to wait instead (in turn with the
    other users' and jobs' blocks)."""
    slots = slots_for(ctx, provider.name)
    if slots is None:
        yield True
        return
    acquired = ctx.slots.acquire(
        slots.account, holder_id(job.id, index), slots.limit, slots.lease_s, job.owner
    )
    _hand_on(ctx, acquired.dispatch, slots.queue)
    if not acquired.granted:
        yield False
        return
    try:
        yield True
    finally:
        release_slot(ctx, provider.name, job.id, index)


def send_blocks(ctx: WorkerContext, job: JobRecord, indices: list[int]) -> None:
    """Send the job's blocks that can start now, and put the rest in their slots' lines.

    A block whose account (or the local pool) has every slot taken needs no task until it is
    handed one: sending it anyway would only cost a task that finds it must wait. So slots are
    taken here, for all the job's blocks in one round trip, and only granted blocks are sent;
    the others are re-sent when a slot is handed to them, in their turn."""
    send, requests = [], []
    for index in indices:
        name = job.blocks[index].spec.provider
        slots = slots_for(ctx, name)
        if slots is None:
            send.append((index, ctx.providers.queue_for(name)))
        else:
            holder = holder_id(job.id, index)
            requests.append(
                (
                    index,
                    slots,
                    SlotRequest(slots.account, holder, slots.limit, slots.lease_s, job.owner),
                )
            )
    results = ctx.slots.acquire_for_later([r for _, _, r in requests]) if requests else []
    for (index, slots, _), acquired in zip(requests, results, strict=True):
        if acquired.granted:
            send.append((index, slots.queue))
        _hand_on(ctx, acquired.dispatch, slots.queue)
    ctx.queue.blocks(job.id, send)


def release_slot(ctx: WorkerContext, provider_name: str, job_id: str, index: int) -> None:
    """Give back the block's slot, if it holds one, and re-send the blocks that were waiting
    and are handed the freed slot.

    Also called where a block turns out not to need a slot it may have been handed while it
    waited (its job ended, or it was made meanwhile), so the slot passes on at once rather than
    idling until its lease runs out."""
    slots = slots_for(ctx, provider_name)
    if slots is None:
        return
    handed = ctx.slots.release(slots.account, holder_id(job_id, index), slots.limit, slots.lease_s)
    _hand_on(ctx, handed, slots.queue)


def resend_lost_block(ctx: WorkerContext, provider_name: str, job_id: str, index: int) -> None:
    """Send again a block whose process died making it. It keeps the slot the dead process
    held for it (it had its turn: sent to the back of the line, a block lost behind a long
    backlog would wait for all of it); a slot it no longer holds is taken anew as it starts."""
    slots = slots_for(ctx, provider_name)
    if slots is not None:
        ctx.slots.keep_for_resend(slots.account, holder_id(job_id, index), slots.lease_s)
    ctx.queue.resend_block(job_id, index, _queue(ctx, provider_name, slots))


def resend_later(ctx: WorkerContext, provider_name: str, job_id: str, index: int) -> None:
    """Send the block's task again after a heartbeat: another delivery of it is being made
    (utils/jobs/liveness.py still_making), and this one looks again then, to find it made (and
    stop), its maker gone (and make it), or still making it."""
    queue = _queue(ctx, provider_name, slots_for(ctx, provider_name))
    ctx.queue.resend_block(job_id, index, queue, countdown=ctx.settings.liveness.heartbeat_s)


def _queue(ctx: WorkerContext, provider_name: str, slots: Slots | None) -> str:
    return slots.queue if slots else ctx.providers.queue_for(provider_name)


def fill_local_slots(ctx: WorkerContext) -> list[str]:
    """Hand the local pool's free slots to the blocks waiting for them: a process that joins
    the pool takes work at once, not when some other block ends and hands slots on."""
    slots = slots_for(ctx, LOCAL_POOL)
    handed = ctx.slots.hand_free(slots.account, slots.limit, slots.lease_s)
    _resend_all(ctx, handed, slots.queue)
    return handed


def resend_stranded_blocks(ctx: WorkerContext, grace_s: float) -> list[str]:
    """Send again the blocks that were handed a slot more than `grace_s` ago and whose task
    never started (the worker handing it over died before re-sending it)."""
    stranded = []
    for name in [LOCAL_POOL, *ctx.providers.names()]:
        slots = slots_for(ctx, name)
        if slots is None or (name != LOCAL_POOL and slots.account == LOCAL_POOL):
            continue  # no limit, or a local provider: its slots are the local pool's
        handed = ctx.slots.stranded(slots.account, grace_s)
        for holder in handed:
            log.warning("block %s was handed a slot but never started; sending it again", holder)
        _resend_all(ctx, handed, slots.queue)
        stranded += handed
    return stranded


def _hand_on(ctx: WorkerContext, holders: list[str], queue: str) -> None:
    """Start the blocks handed a slot: a cloud block here, at once, where this process serves
    them (workers/direct_handoff.py), else through the broker on their pool's queue. A local
    block always goes to the local pool (its slot is one of that pool's processes)."""
    for holder in holders:
        job_id, index = parse_holder(holder)
        if queue != LOCAL_BLOCKS_QUEUE and direct_handoff.start_here(job_id, index, queue):
            SLOT_HANDOFFS.labels("here").inc()
        else:
            ctx.queue.resend_block(job_id, index, queue)
            SLOT_HANDOFFS.labels("broker").inc()


def _resend_all(ctx: WorkerContext, holders: list[str], queue: str) -> None:
    for holder in holders:
        ctx.queue.resend_block(*parse_holder(holder), queue)
