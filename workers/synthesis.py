"""One block: wait for a slot on the provider account, synthesize, normalize to the job's
format, store, mark done.

Plain functions over a WorkerContext, so tests call them without Celery; an attempt at a block
(workers/block_attempts.py) calls them, and its task (workers/tasks.py) adds the retry policy.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from enum import Enum

from utils.audio.cache import content_digest
from utils.audio.encoders import encode_bytes, pcm_bytes
from utils.audio.formats import OutputFormat
from utils.audio.loudness import level_block
from utils.audio.loudness_target import LoudnessTarget
from utils.audio.mp3_frames import bare_frames
from utils.audio.pcm import ProviderAudio, apply_gain, encode_mp3, fade_edges, to_pcm
from utils.audio.timings import block_timings
from utils.jobs.liveness import this_worker
from utils.jobs.models import BlockRecord, BlockSpec, BlockStatus, JobRecord, prosody_context
from utils.lexicons.rules import decode_spans, written_marks
from utils.storage.keys import block_keys
from workers import cpu_lane
from workers.account_slots import account_slot, release_slot
from workers.cancelled_blocks import cancelled_meanwhile
from workers.context import WorkerContext
from workers.metrics import provider_call
from workers.providers import SynthesisRequest, TTSProvider

log = logging.getLogger(__name__)


class Outcome(Enum):
    STORED = "stored"
    COMBINE = "combine"  # this block was the last one: the caller enqueues the combine
    WAITING = "waiting"  # every slot of the account is taken; resent when one frees
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
    result = cpu_lane.run(
        _normalize_and_store, ctx, provider.name, block.spec, audio, fmt, loudness, (key, pcm_key)
    )
    if ctx.cache:
        ctx.cache.remember(digest, key, result, pcm_key=pcm_key)
    last = ctx.jobs.finish_block(job, index, result)
    if cancelled_meanwhile(ctx, job_id, index):  # cancelled while it was stored: taken out
        return Outcome.SKIPPED
    return _finished(last)


def _normalize_and_store(
    ctx: WorkerContext,
    provider_name: str,
    spec: BlockSpec,
    audio: ProviderAudio,
    fmt: OutputFormat,
    loudness: LoudnessTarget | None,
    keys: tuple[str, str | None],
) -> dict:
    """The provider's audio in the job's format, leveled to its target, stored at `keys`
    (utils/storage/keys.py block_keys); what the block's record keeps of it."""
    key, pcm_key = keys
    samples = apply_gain(to_pcm(audio, fmt.sample_rate), spec.volume_db)
    if samples.size == 0:
        raise ValueError(f"{provider_name} returned no audio")
    samples, measured = level_block(samples, fmt, loudness)  # to the job's target, if any
    if spec.said_map and audio.marks is not None:  # marks over the text said: onto the user's
        audio = replace(audio, marks=written_marks(audio.marks, decode_spans(spec.said_map)))
    n_frames = _store(ctx, fmt, fade_edges(samples, fmt.sample_rate), key, pcm_key)
    return {
        **measured,
        "storage_key": key,
        "n_samples": int(samples.size),
        "n_frames": n_frames,
        "duration_ms": round(samples.size * 1000 / fmt.sample_rate),
        "timings": block_timings(audio, samples, fmt.sample_rate, spec.text),
    }


def _store(ctx: WorkerContext, fmt: OutputFormat, samples, key: str, pcm_key: str | None) -> int:
    """The block's audio in the job's format at `key`; outside MP3 its PCM at `pcm_key` too,
    which the combine and streams encode from. The MP3 frames stored (0 outside MP3)."""
    if fmt.is_mp3:
        frames = bare_frames(encode_mp3(samples, fmt), fmt)
        ctx.storage.put_bytes(key, frames.data)
        return frames.n_frames
    ctx.storage.put_bytes(pcm_key, pcm_bytes(samples))
    if key != pcm_key:
        ctx.storage.put_bytes(key, encode_bytes(fmt, samples))
    return 0


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
    )
