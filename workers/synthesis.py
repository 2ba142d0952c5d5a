"""One block: wait for a slot on the provider account, synthesize, normalize to the job's
format, store, mark done.

Plain functions over a WorkerContext, so tests call them without Celery; workers/tasks.py
wraps them with the retry policy and sends the tasks they ask for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from enum import Enum

from config import ProviderConfig
from utils.audio import OutputFormat, encode_mp3, fade_edges, to_pcm
from utils.audio_cache import content_digest
from utils.jobs import BlockRecord, BlockStatus, JobRecord
from utils.limiter import holder_id, parse_holder
from utils.mp3 import bare_frames
from utils.storage import block_audio_key
from workers.context import WorkerContext
from workers.providers import SynthesisRequest, TTSProvider

log = logging.getLogger(__name__)

# A lease outlives the longest request by this much before a crashed holder's slot frees.
LEASE_MARGIN_S = 30.0

Resend = Callable[[str, int], None]


class Outcome(Enum):
    STORED = "stored"
    COMBINE = "combine"  # this block was the last one: the caller enqueues the combine
    WAITING = "waiting"  # every slot of the account is taken; resent when one frees
    SKIPPED = "skipped"  # the job already finished


def synthesize_block(ctx: WorkerContext, job_id: str, index: int, resend: Resend) -> Outcome:
    """Make block `index` of the job.

    Safe to run again for the same block (a redelivered or retried task): a finished block is
    not synthesized twice, and finishing it again never counts it twice.
    """
    job, block = ctx.jobs.get_with_block(job_id, index)
    if job.status.finished:
        log.info("job %s is %s; skipping block %d", job_id, job.status.value, index)
        release_slot(ctx, block.spec.provider, job_id, index, resend)
        return Outcome.SKIPPED
    if block.status == BlockStatus.COMPLETED:
        release_slot(ctx, block.spec.provider, job_id, index, resend)
        return _finished(ctx.jobs.finish_block(job, index, {}))

    provider = ctx.providers.get(block.spec.provider)
    key = block_audio_key(job_id, index)
    digest = content_digest(provider, block.spec, job.output_format)
    if ctx.cache and (hit := ctx.cache.restore(digest, key)):
        release_slot(ctx, provider.name, job_id, index, resend)
        return _finished(ctx.jobs.finish_block(job, index, hit))

    with account_slot(ctx, provider, job_id, index, resend) as granted:
        if not granted:
            return Outcome.WAITING
        ctx.jobs.start_block(job, index)
        audio = provider.synthesize(_request(ctx, provider, job, block))
    fmt = OutputFormat.parse(job.output_format)
    samples = to_pcm(audio, fmt.sample_rate)
    if samples.size == 0:
        raise ValueError(f"{provider.name} returned no audio")
    frames = bare_frames(encode_mp3(fade_edges(samples, fmt.sample_rate), fmt), fmt)
    url = ctx.storage.put_bytes(key, frames.data)
    result = {
        "location": key,
        "url": url or "",
        "n_samples": int(samples.size),
        "n_frames": frames.n_frames,
        "duration_ms": round(samples.size * 1000 / fmt.sample_rate),
    }
    if ctx.cache:
        ctx.cache.remember(digest, key, result)
    return _finished(ctx.jobs.finish_block(job, index, result))


def _finished(last: bool) -> Outcome:
    return Outcome.COMBINE if last else Outcome.STORED


def _request(
    ctx: WorkerContext, provider: TTSProvider, job: JobRecord, block: BlockRecord
) -> SynthesisRequest:
    """The block's text, with its neighbours' where they share its voice (for prosody)."""
    previous_text = next_text = None
    if provider.uses_context:
        before, after = ctx.jobs.neighbours(job, block.index)
        same_voice = [
            b.spec.text
            if b and (b.spec.provider, b.spec.voice) == (block.spec.provider, block.spec.voice)
            else None
            for b in (before, after)
        ]
        previous_text, next_text = same_voice
    return SynthesisRequest(
        text=block.spec.text,
        voice=block.spec.voice,
        speed=block.spec.speed,
        previous_text=previous_text,
        next_text=next_text,
    )


@contextmanager
def account_slot(
    ctx: WorkerContext, provider: TTSProvider, job_id: str, index: int, resend: Resend
):
    """Hold one of the account's slots while inside; yields False when queued to wait instead."""
    limit = provider.config.concurrency
    if limit is None:
        yield True
        return
    holder = holder_id(job_id, index)
    lease_s = _lease_s(provider.config)
    acquired = ctx.limiter.acquire(provider.name, holder, limit, lease_s)
    _resend_all(acquired.dispatch, resend)
    if not acquired.granted:
        yield False
        return
    try:
        yield True
    finally:
        release_slot(ctx, provider.name, job_id, index, resend)


def release_slot(
    ctx: WorkerContext, provider_name: str, job_id: str, index: int, resend: Resend
) -> None:
    """Give back the block's slot on the account, if it holds one, and re-send the blocks that
    were waiting and are handed the freed slot.

    Also called where a block turns out not to need a slot it may have been handed while it
    waited (its job ended, or it was made meanwhile), so the slot passes on at once rather than
    idling until its lease runs out."""
    config = ctx.settings.PROVIDERS.get(provider_name)
    if config is None or config.concurrency is None:
        return
    holder = holder_id(job_id, index)
    handed = ctx.limiter.release(provider_name, holder, config.concurrency, _lease_s(config))
    _resend_all(handed, resend)


def _lease_s(config: ProviderConfig) -> float:
    return config.timeout_s + LEASE_MARGIN_S


def _resend_all(holders: list[str], resend: Resend) -> None:
    for holder in holders:
        resend(*parse_holder(holder))


def resend_stranded_blocks(ctx: WorkerContext, resend: Resend, grace_s: float) -> list[str]:
    """Send again the blocks that were handed an account slot more than `grace_s` ago and whose
    task never started (the worker handing it over died before re-sending it)."""
    stranded = []
    for name, config in ctx.settings.PROVIDERS.items():
        if config.concurrency is not None:
            stranded += ctx.limiter.stranded(name, grace_s)
    for holder in stranded:
        log.warning("block %s was handed a slot but never started; sending it again", holder)
    _resend_all(stranded, resend)
    return stranded
