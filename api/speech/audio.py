"""The bytes of a speech response: audio as each piece is made, or OpenAI's SSE events.

The pieces are a job's blocks (made in parallel by the workers); they go out in order as each is
stored. MP3 is sent as the workers' frames (api/streaming.py stream_blocks); every other format
is encoded here, progressively, from the blocks' PCM, in a thread so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
from collections.abc import AsyncIterator, Callable

import redis.asyncio as aioredis
from starlette.concurrency import run_in_threadpool

from api.streaming import StreamHold, block_pcm_in_order, encode_stream, stream_blocks
from utils.audio.encoders import stream_encoder
from utils.jobs.models import JobRecord
from utils.storage.base import Storage
from workers.providers.openai_names import PCM_RATE


async def cancelled_if_left(
    audio: AsyncIterator[bytes], cancel: Callable[[], object]
) -> AsyncIterator[bytes]:
    """The audio; where the client leaves before its end, the request's job is cancelled
    (`cancel`, in a thread), so that no worker makes pieces nobody will hear."""
    ended = False
    try:
        async for chunk in audio:
            yield chunk
        ended = True
    finally:
        if not ended:  # shielded: the response's own cancellation must not cut it short
            await asyncio.shield(run_in_threadpool(cancel))


async def encoded_audio(
    client: aioredis.Redis,
    storage: Storage,
    job: JobRecord,
    response_format: str,
    give_up_s: float,
    hold: StreamHold | None,
) -> AsyncIterator[bytes]:
    if response_format == "mp3":
        async for chunk in stream_blocks(client, storage, job, give_up_s, hold):
            yield chunk
        return
    pcm = block_pcm_in_order(client, storage, job, give_up_s, hold)
    async for chunk in encode_stream(pcm, stream_encoder(response_format, PCM_RATE)):
        yield chunk


def estimated_tokens(text: str) -> int:
    """Input tokens as OpenAI's rule of thumb counts them (about four characters each): the
    service has no tokenizer of the model, and `usage` must be there for clients that read it."""
    return math.ceil(len(text) / 4)


def _event(payload: dict) -> bytes:
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


async def sse_events(audio: AsyncIterator[bytes], input_text: str) -> AsyncIterator[bytes]:
    """OpenAI's speech events: `speech.audio.delta` with base64 audio, then `speech.audio.done`
    with `usage` (no audio tokens are counted: output_tokens is 0)."""
    async for chunk in audio:
        yield _event({"type": "speech.audio.delta", "audio": base64.b64encode(chunk).decode()})
    tokens = estimated_tokens(input_text)
    usage = {"input_tokens": tokens, "output_tokens": 0, "total_tokens": tokens}
    yield _event({"type": "speech.audio.done", "usage": usage})


async def first_then_rest(
    chunks: AsyncIterator[bytes],
) -> tuple[bytes | None, AsyncIterator[bytes]]:
    """The first non-empty chunk (None if the audio ended before any), and the stream resumed
    with it: a response's status is decided once the first piece is known to exist."""
    first = None
    async for chunk in chunks:
        if chunk:
            first = chunk
            break

    async def resumed() -> AsyncIterator[bytes]:
        if first is not None:
            yield first
            async for chunk in chunks:
                yield chunk

    return first, resumed()
