"""One block: wait for a slot on the provider account, synthesize, normalize to the job's
format, store, mark done.

Plain functions over a WorkerContext, so tests call them without Celery; an attempt at a block
(workers/block_attempts.py) calls them, and its task (workers/tasks.py) adds the retry policy.
"""

from __future__ import annotations

import logging
import time
from enum import Enum

from utils.audio.cache import content_digest
from utils.audio.formats import OutputFormat
from utils.clock import epoch_of
from utils.jobs.block_records import CANCELLED, LAST
from utils.jobs.liveness import Heartbeat, still_making, this_worker
from utils.jobs.models import BlockRecord, BlockStatus, JobRecord, prosody_context
from utils.names import block_key, running_field
from utils.storage.keys import block_keys
from workers import cpu_lane
from workers.account_slots import account_slot, release_slot, resend_later
from workers.block_audio import prepare_block
from workers.cancelled_blocks import cancelled_meanwhile, discard_block
from workers.context import WorkerContext
from workers.metrics import provider_call
from workers.providers import SynthesisRequest, TTSProvider

log = logging.getLogger(__name__)


class Outcome(Enum):
    STORED = "stored"
    COMBINE = "combine"  # this block was the last one: the caller enqueues the combine
    WAITING = "waiting"  # every slot of the account is taken, or another delivery of this
    # block's task is making it: resent, when a slot frees or after a heartbeat
    SKIPPED = "skipped"  # the job already finished


def synthesize_block(ctx: WorkerContext, job_id: str, index: int) -> Outcome:
    """Make block `index` of the job.

    Safe to run again for the same block (a redelivered or retried task): a finished block is
    not synthesized twice, and finishing it again never counts it twice.
    """
    job, block = ctx.jobs.get_with_block(job_id, index)
    if job.status.finished:
        log.info("job %s is %s; skipping block %d", job_id, job.status.value, index)
        release_slot(ctx, block.spec.provider, job_id, index)
        return Outcome.SKIPPED
    if block.status == BlockStatus.COMPLETED:
        release_slot(ctx, block.spec.provider, job_id, index)
        return _finished(ctx.jobs.finish_block(job, index, {}))
    field = running_field(job_id, index)
    # Only a task delivered again finds its block processing: read the maker's heartbeat then.
    maker = block.worker if block.status == BlockStatus.PROCESSING else None
    if maker and still_making(ctx.redis, maker, field) and not _past_hard_limit(ctx, job_id, index):
        log.info("block %d of job %s is being made by %s; look again later", index, job_id, maker)
        resend_later(ctx, block.spec.provider, job_id, index)
        return Outcome.WAITING  # its slot, if any, is the maker's: kept
    with Heartbeat.making(field):
        return _make(ctx, job, block)


def _make(ctx: WorkerContext, job: JobRecord, block: BlockRecord) -> Outcome:
    job_id, index = job.id, block.index
    provider = ctx.providers.get(block.spec.provider)
    fmt = OutputFormat.parse(job.output_format)
    key, pcm_key = block_keys(job_id, index, fmt)
    request = _request(ctx, provider, job, block)
    context = (request.previous_text, request.next_text)
    loudness = job.options.loudness
    digest = content_digest(provider, block.spec, job.output_format, context, loudness)
    if ctx.cache and (hit := ctx.cache.restore(digest, key, pcm_key=pcm_key)):
        release_slot(ctx, provider.name, job_id, index)
        return _finished(ctx.jobs.finish_block(job, index, hit))

    with account_slot(ctx, provider, job, index) as granted:
        if not granted:
            return Outcome.WAITING
        if not ctx.jobs.start_block(job, index, this_worker()):
            return Outcome.SKIPPED  # cancelled since it was read; the slot goes back on exit
        with provider_call(provider.name):  # latency histogram and log line
            audio = provider.synthesize(request)
    if cancelled_meanwhile(ctx, job_id, index):  # its slot is given back: nothing is stored
        return Outcome.SKIPPED
    # CPU work: below the network work of this process's other blocks (workers/cpu_lane.py)
    prepared = cpu_lane.run(
        prepare_block, provider.name, block.spec, audio, fmt, loudness, (key, pcm_key)
    )
    for file_key, data in prepared.files:
        ctx.storage.put_bytes(file_key, data)
    result = prepared.record
    if ctx.cache:
        ctx.cache.remember(digest, key, result, pcm_key=pcm_key)
    finished = ctx.jobs.finish_made_block(job, index, result)
    if finished == CANCELLED:  # cancelled while it was stored: taken out
        discard_block(ctx, job_id, index)
        return Outcome.SKIPPED
    return _finished(finished == LAST)


def _past_hard_limit(ctx: WorkerContext, job_id: str, index: int) -> bool:
    """Whether the block started longer ago than any process may make one (its hard time
    limit, and a heartbeat's silence more): nobody is making it now, whatever was noted."""
    started = ctx.redis.hget(block_key(job_id, index), "started_at")
    limit_s = ctx.settings.hard_time_limit + ctx.settings.liveness.dead_after_s
    return started is None or time.time() - epoch_of(started) > limit_s


def _finished(last: bool) -> Outcome:
    return Outcome.COMBINE if last else Outcome.STORED


def _request(
    ctx: WorkerContext, provider: TTSProvider, job: JobRecord, block: BlockRecord
) -> SynthesisRequest:
    """The block's text, with its neighbours' where they share its voice (for prosody)."""
    previous_text = next_text = None
    if provider.uses_context:
        before, after = ctx.jobs.neighbours(job, block.index)
        previous_text, next_text = prosody_context(
            block.spec, before and before.spec, after and after.spec
        )
    return SynthesisRequest(
        text=block.spec.provider_text,
        voice=block.spec.voice,
        speed=block.spec.speed,
        previous_text=previous_text,
        next_text=next_text,
        model=block.spec.model,
        instructions=block.spec.instructions,
        speaker=block.spec.speaker,
        alone=job.options.lead_alone and block.index == 0,
        output_format=job.output_format,
    )
