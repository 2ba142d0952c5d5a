"""One context of a connection: text in, pieces cut from it made as jobs, audio out in order.

Each piece (a sentence, or what the schedule or a flush cut) is a job of its own, submitted as
the speech endpoint submits its pieces (blocks only, no combine; account slots, fair share and
the cache as for any job), so a worker dying mid-piece loses nothing: the recovery sends the
block again. At most AHEAD pieces are submitted and not yet sent: the next is made while the
one before plays, and a client that stops reading stops the submitting too (the outbox is
bounded). Closing the context cancels its jobs not yet made (their blocks' tasks find the job
finished and skip: no provider call begins) and never submits the pieces still waiting.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass

import numpy as np
import redis.asyncio as aioredis
from starlette.concurrency import run_in_threadpool

from api.realtime.audio_out import AudioOut
from api.realtime.protocol import INTERNAL, AudioFormat, ProtocolError, audio_message
from api.realtime.text_buffer import TextBuffer
from api.speech.targets import SpeechTarget
from api.streaming import completed_blocks
from utils.jobs.cancellation import JobCancellation
from utils.jobs.models import BlockSpec, JobOptions, JobRecord
from utils.jobs.store import JobStore
from utils.jobs.submit import JobSubmitter
from utils.names import timings_key
from utils.storage.base import Storage
from utils.storage.keys import block_pcm_key
from utils.text.sentences import pieces

log = logging.getLogger(__name__)

AHEAD = 3  # pieces submitted and not yet sent, per context


@dataclass(frozen=True)
class Services:
    """What a connection's contexts use, from the app's state."""

    aredis: aioredis.Redis
    storage: Storage
    submitter: JobSubmitter
    jobs: JobStore
    piece_chars: int
    max_block_chars: int
    max_text_chars: int  # text a context may hold not yet spoken (SPEECH_MAX_INPUT_CHARS)
    give_up_s: float  # the wait for one block (SPEECH_FIRST_PIECE_TIMEOUT_S)
    # The connection's pronunciation lexicons (its opening's pronunciation_dictionary_locators
    # and the operator's): a block as its provider is to say it, or the problem (a phoneme the
    # voice cannot say). None: no lexicons apply.
    say: Callable[[BlockSpec], tuple[BlockSpec, list[str]]] | None = None


Send = Callable[[str | None, dict], Awaitable[None]]


def _read_pcm(storage: Storage, job_id: str, index: int) -> np.ndarray:
    with storage.open(block_pcm_key(job_id, index)) as handle:
        return np.frombuffer(handle.read(), dtype="<i2")


class Context:
    def __init__(
        self,
        services: Services,
        context_id: str | None,
        owner: str,
        target: SpeechTarget,
        fmt: AudioFormat,
        schedule: tuple[int, ...],
        speed: float,
        send: Send,
    ):
        self.services, self.id, self.owner = services, context_id, owner
        self.target, self.fmt, self.speed, self.send = target, fmt, speed, send
        self.buffer = TextBuffer(schedule)
        # pieces not yet submitted, each with its blocks as they are to be said
        self.cut: asyncio.Queue[tuple[str, list[BlockSpec]] | None] = asyncio.Queue()
        self.made: asyncio.Queue[JobRecord | None] = asyncio.Queue()  # submitted, in order
        self.ahead = asyncio.Semaphore(AHEAD)
        self.waiting_chars = 0  # in pieces cut and not yet submitted
        self.live: set[str] = set()  # jobs submitted whose audio is not all sent
        self.closed = False
        self.ending = False
        self.submitting = False
        self.audio = AudioOut(fmt)
        # a closed context's jobs are cancelled as DELETE /jobs/{id} cancels them: blocks not
        # started never start, and those waiting leave their accounts' lines at once
        self.cancellation = JobCancellation(services.jobs)
        self.submit_task = asyncio.create_task(self._submit_loop())
        self.send_task = asyncio.create_task(self._send_loop())

    async def add(self, text: str, flush: bool = False, trigger: bool = False) -> None:
        if self.ending or self.closed:
            return
        held = len(self.buffer) + self.waiting_chars + len(text)
        if held > self.services.max_text_chars:
            raise ProtocolError(
                f"a context may hold at most {self.services.max_text_chars} characters of text "
                f"not yet spoken, it would hold {held}",
                "max_character_limit_exceeded",
            )
        for piece in await run_in_threadpool(self._cut, text, flush, trigger):
            specs = await run_in_threadpool(self._specs, piece)
            self.waiting_chars += len(piece)
            self.cut.put_nowait((piece, specs))

    def _cut(self, text: str, flush: bool, trigger: bool) -> list[str]:
        """The pieces `text` completes: several sentences at once are several pieces (the
        first sentence alone, then about SPEECH_PIECE_CHARS each), as the speech endpoint cuts
        its input, so each is made, sent and cancelled on its own."""
        ready = self.buffer.add(text, trigger) if text else []
        if flush:
            ready += self.buffer.flush()
        services = self.services
        return [p for r in ready for p in pieces(r, services.piece_chars, services.max_block_chars)]

    async def end(self, keep_buffer: bool = True) -> None:
        """No more text: what is buffered is spoken (or, without keep_buffer, dropped)."""
        if self.ending or self.closed:
            return
        if keep_buffer:
            await self.add("", flush=True)
        self.ending = True
        self.cut.put_nowait(None)

    async def finished(self) -> None:
        """Returns once every piece's audio has been handed to `send`."""
        await asyncio.shield(self.send_task)

    def _specs(self, piece: str) -> list[BlockSpec]:
        """The piece's blocks, each as its provider is to say it (ProtocolError if it cannot:
        said while the client is still sending, before anything of it is made)."""
        t = self.target
        texts = pieces(piece, self.services.piece_chars, self.services.max_block_chars)
        specs = [
            BlockSpec(text, t.provider, t.voice, speed=self.speed, model=t.model) for text in texts
        ]
        if self.services.say is None:
            return specs
        said = []
        for spec in specs:
            spec, problems = self.services.say(spec)
            if problems:
                raise ProtocolError(problems[0], "invalid_pronunciation")
            said.append(spec)
        return said

    def _submit(self, specs: list[BlockSpec]) -> JobRecord:
        return self.services.submitter.submit(
            self.owner,
            f"pcm_{self.fmt.rate}",
            specs,
            False,
            options=JobOptions(lead_alone=True),  # a lone first sentence: Piper on every core
        )

    async def _submit_loop(self) -> None:
        while True:
            item = await self.cut.get()
            if item is None:
                self.made.put_nowait(None)
                return
            piece, specs = item
            await self.ahead.acquire()
            self.submitting = True  # not cancelled from here: the job is known when it exists
            try:
                job = await run_in_threadpool(self._submit, specs)
            finally:
                self.submitting = False
            self.waiting_chars -= len(piece)
            if self.closed:
                await run_in_threadpool(self.cancellation.cancel, job.id)
                return
            self.live.add(job.id)
            self.made.put_nowait(job)

    async def _send_loop(self) -> None:
        services = self.services
        while (job := await self.made.get()) is not None:
            sent = 0
            async with aclosing(
                completed_blocks(services.aredis, job, services.give_up_s, None)
            ) as blocks:
                async for block in blocks:
                    pcm = await run_in_threadpool(_read_pcm, services.storage, job.id, block.index)
                    timings = await services.aredis.hget(timings_key(job.id), str(block.index))
                    chunks = await run_in_threadpool(
                        self.audio.chunks, pcm, block.spec.text, timings
                    )
                    for data, alignment, source in chunks:
                        if self.closed:
                            return
                        await self.send(self.id, audio_message(data, alignment, self.id, source))
                    sent += 1
            if self.closed:  # a cancellation lost in a Redis read: the job was cancelled by close
                return
            if sent < job.n_blocks:
                raise ProtocolError(
                    "speech failed: a piece of the text was not made (it failed, or no worker "
                    "made it within SPEECH_FIRST_PIECE_TIMEOUT_S)",
                    "synthesis_failed",
                    INTERNAL,
                )
            self.live.discard(job.id)
            self.ahead.release()
        tail = await run_in_threadpool(self.audio.finish)
        if tail:
            await self.send(self.id, audio_message(base64.b64encode(tail).decode(), None, self.id))

    async def close(self) -> None:
        """Stop at once: no more audio, jobs not yet made cancelled, waiting pieces dropped."""
        if self.closed:
            return
        self.closed = True
        self.send_task.cancel()
        if not self.submitting:
            self.submit_task.cancel()
        live, self.live = list(self.live), set()
        for job_id in live:
            await run_in_threadpool(self.cancellation.cancel, job_id)
        await asyncio.gather(self.send_task, return_exceptions=True)
        self.audio.close()
