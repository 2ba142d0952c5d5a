"""A speech request's first piece, made alone on every core before the rest fan out.

The response's first byte waits on its first piece (the input's first sentence) and nothing
else. Sent beside the other pieces, it shares the cores with them and takes as long as on one
core; sent alone, Piper spreads it over every core (its session's intra-op threads), and the
first byte comes about twice as soon on two cores. The other pieces are sent the moment the
first one's task ends, however it ended, so the whole takes about as long: the cores were busy
all along.

Only for jobs that ask (JobOptions.lead_alone: the speech endpoint's), and only where the first
block runs on this machine's cores: a cloud provider's call waits on the network, so holding the
rest back would only delay them.

The job's `rest_held` field says the rest are held: set when dispatching holds them, and taken
(HDEL) when the lead's task ends, so of two tasks running the lead (a redelivery) only one
sends them (JobStore.hold_rest, take_held_rest).
"""

from __future__ import annotations

from utils.jobs.models import BlockStatus, JobRecord
from workers.account_slots import send_blocks
from workers.context import WorkerContext


def to_send_now(ctx: WorkerContext, job: JobRecord, indices: list[int]) -> list[int]:
    """The blocks of `indices` to send at once: the lead alone when the job asks for it."""
    if not (job.options.lead_alone and 0 in indices and len(indices) > 1):
        return indices
    if not ctx.providers.runs_locally(job.blocks[0].spec.provider):
        return indices
    ctx.jobs.hold_rest(job.id)
    return [0]


def lead_ended(ctx: WorkerContext, job_id: str, index: int) -> None:
    """After a task of block `index` ended (made, failed, or to be retried): if it was the lead
    and the rest are held, send them."""
    if index != 0 or not ctx.jobs.take_held_rest(job_id):
        return
    job = ctx.jobs.get(job_id)
    if job.status.finished:
        return
    rest = [b.index for b in job.blocks[1:] if b.status == BlockStatus.QUEUED]
    if rest:
        send_blocks(ctx, job, rest)
