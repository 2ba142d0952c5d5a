"""One spoken request of a connection: a whole `synthesize`, or a stream from synthesize-start
to synthesize-stop, with what it holds while it runs.

Opening one counts against WYOMING_USER's rate limit (RATE_LIMIT_SUBMIT, the same count as its
POST /tts and /v1/audio/speech) and takes one of its open streams (MAX_STREAMS_PER_USER, renewed
while it runs, given back however it ends). A stream's text is kept only until its sentence is
complete; the whole request's text is bounded by WYOMING_MAX_TEXT_CHARS.
"""

from __future__ import annotations

import asyncio
import contextlib

from limits import parse
from wyoming.tts import SynthesizeVoice

from api.streaming import LEASE_S, StreamHold
from api.wyoming.framing import BadEvent
from api.wyoming.speaking import Speaker, submit
from api.wyoming.voices import Target
from utils.errors import RateLimited
from utils.jobs.cancellation import JobCancellation
from utils.names import RATE_LIMIT_PREFIX
from utils.text.sentences import sentences

# Where a sentence may end: the buffer is segmented only once one of these is in it.
SENTENCE_ENDS = frozenset(".!?;:。！？；…\n")


class Refusal(Exception):
    """A request refused or ended, with Wyoming error's code and a text saying why."""

    def __init__(self, code: str, text: str):
        super().__init__(text)
        self.code, self.text = code, text


def complete_sentences(buffer: str, language: str) -> tuple[str, str]:
    """`buffer` split into its complete sentences and the sentence still being written. A
    sentence is complete once the next one has begun: "Dr." or "3." alone may still go on."""
    if not any(char in SENTENCE_ENDS for char in buffer[:-1]):
        return "", buffer
    found = sentences(buffer, language)
    if len(found) < 2:
        return "", buffer
    start = buffer.rfind(found[-1])
    return (buffer[:start], buffer[start:]) if start > 0 else ("", buffer)


def _voice(data: object) -> SynthesizeVoice | None:
    if data is None:
        return None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str | None) for k in ("name", "language", "speaker")
    ):
        raise BadEvent("voice must be an object of name, language and speaker (text)")
    return SynthesizeVoice.from_dict(data)


def _count_request(service) -> None:
    """One request of WYOMING_USER against RATE_LIMIT_SUBMIT (as api/rate_limits.py counts)."""
    limiter, settings = service.limiter, service.settings
    if not limiter.enabled:
        return
    limit = parse(settings.rate_limit.submit)
    who = (RATE_LIMIT_PREFIX, "rate_limit_submit", f"user:{settings.wyoming.user}")
    if not limiter.limiter.hit(limit, *who):
        raise Refusal("rate-limited", f"rate limit exceeded: {limit} (RATE_LIMIT_SUBMIT)")


def _take_stream(service) -> StreamHold:
    try:
        return service.open_streams.acquire(service.settings.wyoming.user)
    except RateLimited as exc:
        raise Refusal("too-many-streams", str(exc)) from None


class SpokenRequest:
    def __init__(self, handler, target: Target, hold: StreamHold, streaming: bool):
        self.service = handler.service
        self.target, self.hold, self.streaming = target, hold, streaming
        self.max_chars = self.service.settings.wyoming.max_text_chars
        self.chars, self.buffer, self.first = 0, "", True
        self.job_ids: list[str] = []
        # Alone, the first piece is made on every core before the rest (workers/lead_first.py);
        # beside other requests, those wide sessions would only take the cores from each other,
        # and the other requests' first pieces would wait behind this one's rest: each
        # request's pieces are then sent at once, and the local pool's turns (job by job) make
        # every first piece before any second one.
        self.lead_alone = self.service.speaking == 0
        self.service.speaking += 1
        self._released = False
        self.speaker = Speaker(self.service, handler.send, streaming)
        self.task = asyncio.create_task(self.speaker.run())
        self._renewal = asyncio.create_task(self._renew())

    @classmethod
    async def open(cls, handler, voice: object, streaming: bool) -> SpokenRequest:
        target = await handler.service.voices.target(_voice(voice))
        await asyncio.to_thread(_count_request, handler.service)
        hold = await asyncio.to_thread(_take_stream, handler.service)
        return cls(handler, target, hold, streaming)

    async def add(self, text: str) -> None:
        self.chars += len(text)
        if self.chars > self.max_chars:
            what = "a stream's text" if self.streaming else "the text"
            raise Refusal(
                "text-too-long",
                f"{what} is over {self.max_chars} characters (WYOMING_MAX_TEXT_CHARS)",
            )
        if not self.streaming:
            await self._submit(text)
            return
        done, self.buffer = complete_sentences(self.buffer + text, self.target.language)
        if done:
            await self._submit(done)

    async def finish(self) -> None:
        """The rest of the text submitted; returns once its audio has been sent."""
        try:
            if self.buffer:
                await self._submit(self.buffer)
                self.buffer = ""
            self.speaker.end()
            await self.task
        finally:
            await self._release()

    async def abandon(self) -> None:
        """The connection ended first: stop sending, and cancel the request's jobs as
        DELETE /jobs/{id} does (blocks not started never start; those in flight end as they
        would and are discarded), so nobody's audio is made for a listener who has gone."""
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task
        try:
            await asyncio.to_thread(self._cancel_jobs)
        finally:
            await self._release()

    def _cancel_jobs(self) -> None:
        cancellation = JobCancellation(self.service.submitter.jobs)
        for job_id in self.job_ids:
            cancellation.cancel(job_id)  # a job already ended is left as it is

    async def _submit(self, text: str) -> None:
        lead_alone = self.first and self.lead_alone
        job = await submit(self.service, text, self.target, lead_alone=lead_alone)
        if job is not None:
            self.first = False
            self.job_ids.append(job.id)
            self.speaker.feed(job)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(LEASE_S / 3)
            await self.hold.renew(self.service.aredis)

    async def _release(self) -> None:
        if not self._released:
            self._released = True
            self.service.speaking -= 1
        self._renewal.cancel()
        await asyncio.shield(self.hold.release(self.service.aredis))
