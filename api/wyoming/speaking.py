"""Text to jobs, and jobs to Wyoming audio events, in order, as each block is stored.

A request's text (a whole `synthesize`, or each run of sentences a stream completes) becomes a
blocks-only job in PCM at WYOMING_SAMPLE_RATE, cut at sentences into pieces as the speech
endpoint cuts its input, and made on the workers like any job's blocks. A connection's first
job asks for its first piece alone on every core (workers/lead_first.py), as the speech endpoint
does: the first audio waits on it and nothing else.

The Speaker plays the jobs of one request in the order they were submitted: each block's PCM
(api/streaming.py block_pcm_in_order) goes out as audio-chunk events of WYOMING_SAMPLES_PER_CHUNK
samples. It holds one block's PCM at a time, and waits for the client to read (send() in
handler.py) before it sends more: a client that stops reading holds the stream, not memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.tts import SynthesizeStopped

from api.streaming import block_pcm_in_order
from api.wyoming.voices import Target
from utils.errors import SynthesisFailed, SynthesisTimedOut
from utils.jobs.async_reads import job_failed_or_gone
from utils.jobs.models import BlockSpec, JobOptions, JobRecord
from utils.text.sentences import pieces

WIDTH, CHANNELS = 2, 1  # 16-bit mono


def job_specs(text: str, target: Target, piece_chars: int, max_block_chars: int) -> list[BlockSpec]:
    return [
        BlockSpec(piece, target.provider, target.voice, speaker=target.speaker)
        for piece in pieces(text, piece_chars, max_block_chars)
    ]


class Speaker:
    """The audio of one request: jobs in, audio events out, in order.

    `feed(job)` adds a job's audio after what is queued; `end()` says no more will come. `run()`
    sends audio-start with the first audio (or at the end, if there is none), every chunk,
    audio-stop, and synthesize-stopped when the request was a stream."""

    def __init__(self, service, send: Callable[[Event], Awaitable[None]], streaming: bool):
        self.service = service
        self.send = send
        self.streaming = streaming
        self.rate = service.settings.wyoming.sample_rate
        self._jobs: asyncio.Queue[JobRecord | None] = asyncio.Queue()
        self._started = False
        self.busy = False  # a job's audio is being waited for or sent (the idle clock stops)

    def feed(self, job: JobRecord) -> None:
        self._jobs.put_nowait(job)  # jobs, not audio: bounded by the text's limit

    def end(self) -> None:
        self._jobs.put_nowait(None)

    @property
    def pending(self) -> bool:
        return self.busy or not self._jobs.empty()

    async def run(self) -> None:
        while (job := await self._jobs.get()) is not None:
            self.busy = True
            try:
                await self._play(job)
            finally:
                self.busy = False
        await self._start()
        await self.send(AudioStop().event())
        if self.streaming:
            await self.send(SynthesizeStopped().event())

    async def _start(self) -> None:
        if not self._started:
            self._started = True
            await self.send(AudioStart(rate=self.rate, width=WIDTH, channels=CHANNELS).event())

    async def _play(self, job: JobRecord) -> None:
        settings = self.service.settings
        step = settings.wyoming.samples_per_chunk
        blocks = block_pcm_in_order(
            self.service.aredis, self.service.storage, job, settings.JOB_STALL_TIMEOUT
        )
        async with contextlib.aclosing(blocks):
            while True:
                try:
                    samples = await asyncio.wait_for(
                        anext(blocks), settings.speech.first_piece_timeout_s
                    )
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise SynthesisTimedOut(
                        f"no audio within {settings.speech.first_piece_timeout_s} s "
                        "(SPEECH_FIRST_PIECE_TIMEOUT_S): are the workers running?"
                    ) from None
                await self._start()
                data = samples.astype("<i2", copy=False).tobytes()
                size = step * WIDTH
                for offset in range(0, len(data), size):
                    chunk = AudioChunk(
                        rate=self.rate, width=WIDTH, channels=CHANNELS,
                        audio=data[offset : offset + size],
                    )  # fmt: skip
                    await self.send(chunk.event())
        if await job_failed_or_gone(self.service.aredis, job.id):
            failed = await asyncio.to_thread(self.service.submitter.jobs.get, job.id)
            reason = failed.error or next((b.error for b in failed.blocks if b.error), None)
            raise SynthesisFailed(f"synthesis failed: {reason or 'no audio was made'}")


def said_as_the_operator_says(service, specs: list[BlockSpec]) -> list[BlockSpec]:
    """The operator's lexicons (LEXICON_FILES) applied, as to every request (Home Assistant
    names no lexicons of its own). A word a voice cannot say as a rule says is said as written
    rather than refusing the request: a voice assistant must still answer."""
    from api.lexicon_blocks import RequestLexicons
    from utils.lexicons.store import LexiconStore

    settings = service.settings
    if not settings.lexicons.files:
        return specs
    store = LexiconStore(service.redis, settings.lexicons.max_per_user)
    lexicons = RequestLexicons(store, settings.wyoming.user, settings, service.providers)
    out = []
    for spec in specs:
        said, problems = lexicons.apply(spec, (), lambda field, message: None)
        out.append(spec if problems else said)
    return out


async def submit(service, text: str, target: Target, lead_alone: bool) -> JobRecord | None:
    """`text` as a job of pieces in PCM; None if it has nothing to speak."""
    settings = service.settings
    specs = job_specs(text, target, settings.speech.piece_chars, settings.MAX_BLOCK_CHARS)
    if not specs:
        return None
    specs = await asyncio.to_thread(said_as_the_operator_says, service, specs)
    submit_job = functools.partial(
        service.submitter.submit, options=JobOptions(lead_alone=lead_alone)
    )
    return await asyncio.to_thread(
        submit_job, settings.wyoming.user, f"pcm_{settings.wyoming.sample_rate}", specs, False
    )
