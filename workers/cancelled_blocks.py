"""What a worker does with a block whose job its owner cancelled while the block was being
made (utils/jobs/cancellation.py): the block is discarded, not kept in the job.

A block's task looks at its job when it starts (a cancelled job is finished: the block is
skipped and any slot it was handed goes on at once, workers/synthesis.py). Here is the look
after its provider call, and again as it is finished (in the same Redis step): the second one
closes the gap between the first and the store, so a block made after the cancel never stays
in the job and never sends the combine.
"""

from __future__ import annotations

import logging

from utils.jobs.cancellation import JobCancellation, is_cancelled
from workers.context import WorkerContext

log = logging.getLogger(__name__)


def cancelled_meanwhile(ctx: WorkerContext, job_id: str, index: int) -> bool:
    """True (and the block discarded) if the block's job has been cancelled."""
    if not is_cancelled(ctx.redis, job_id):
        return False
    discard_block(ctx, job_id, index)
    return True


def discard_block(ctx: WorkerContext, job_id: str, index: int) -> None:
    """The block of a cancelled job taken out of it (finishing it told us: JobStore
    finish_made_block looks at the job in the same step)."""
    log.info("job %s was cancelled; block %d discarded", job_id, index)
    JobCancellation(ctx.jobs).discard_block(job_id, index, ctx.storage)
