"""One Wyoming connection: the protocol's states, and every way it can go wrong.

    idle ── describe ─▶ info            ping ─▶ pong        anything else: ignored
      │── synthesize ─▶ audio-start, audio-chunk..., audio-stop ─▶ idle
      └── synthesize-start ─▶ streaming ── synthesize-chunk: complete sentences to the workers
                                   │──── synthesize: ignored (Home Assistant's copy of the text)
                                   └──── synthesize-stop ─▶ the rest, audio-stop,
                                                            synthesize-stopped ─▶ idle

Events are read while audio goes out, so a stream's sentences are submitted as they complete.
Whatever goes wrong ends the connection with an `error` event (its code one of the Refusal
codes below) and a close: a malformed event, an unknown voice, text over the limit, the rate
limit or the stream cap, a failed synthesis, no event for WYOMING_IDLE_TIMEOUT_S while nothing
is being spoken, or a client that reads none of the audio for WYOMING_WRITE_TIMEOUT_S (its
buffered audio is dropped with the connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

from wyoming.event import Event, async_write_event
from wyoming.info import Describe
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop

from api.wyoming.framing import BadEvent, error_event, max_data_bytes, read_event
from api.wyoming.requests import Refusal, SpokenRequest
from api.wyoming.voices import UnknownVoice
from utils.errors import ServiceError, SynthesisFailed, SynthesisTimedOut

log = logging.getLogger("wyoming")

CLOSE_GRACE_S = 2.0  # for the last events to leave before the connection is dropped
# The kernel's send buffer of a connection: several seconds of audio, so playback never waits on
# the server, and no more (on loopback it would otherwise grow to megabytes for a client that
# does not read).
SEND_BUFFER_BYTES = 256 * 1024


class ClientGone(Exception):
    """The client closed its side, or stopped reading."""


class WyomingHandler(AsyncEventHandler):
    def __init__(self, service, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        super().__init__(reader, writer)
        self.service = service
        self.options = service.settings.wyoming
        self.max_data = max_data_bytes(self.options.max_text_chars)
        self.request: SpokenRequest | None = None
        self._read: asyncio.Task | None = None
        self._stalled = False
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)

    async def run(self) -> None:
        try:
            while (event := await self._next_event()) is not None:
                if not await self.handle_event(event):
                    break
        except Refusal as refusal:
            await self._say(error_event(refusal.text, refusal.code))
        except BadEvent as exc:
            await self._say(error_event(str(exc), "malformed-event"))
        except UnknownVoice as exc:
            await self._say(error_event(str(exc), "unknown-voice"))
        except SynthesisFailed as exc:
            await self._say(error_event(str(exc), "synthesis-failed"))
        except SynthesisTimedOut as exc:
            await self._say(error_event(str(exc), "synthesis-timed-out"))
        except ServiceError as exc:  # the job queue unreachable, and the like: said to users
            await self._say(error_event(str(exc), "refused"))
        except (ClientGone, ConnectionError):
            pass
        except Exception:
            log.exception("wyoming: connection ended by an unexpected error")
            await self._say(error_event("internal error; the server's log says more", "internal"))
        finally:
            await self._close()

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.send((await self.service.voices.info()).event())
        elif Ping.is_type(event.type):
            await self.send(Pong(text=event.data.get("text")).event())
        elif Synthesize.is_type(event.type):
            _plain_text(event.data)
            if self.request is None:  # inside a stream it is a copy of the chunks: ignored
                await self._whole(_text(event.data, "synthesize"), event.data.get("voice"))
        elif SynthesizeStart.is_type(event.type):
            _plain_text(event.data)
            if self.request is not None:
                raise Refusal("stream-open", "synthesize-start inside a stream already open")
            self.request = await SpokenRequest.open(self, event.data.get("voice"), streaming=True)
        elif SynthesizeChunk.is_type(event.type):
            await self._streaming("synthesize-chunk").add(_text(event.data, "synthesize-chunk"))
        elif SynthesizeStop.is_type(event.type):
            request = self._streaming("synthesize-stop")
            await request.finish()
            self.request = None
        return True  # other events (of other services, or newer ones) are not ours to answer

    async def _whole(self, text: str, voice) -> None:
        self.request = await SpokenRequest.open(self, voice, streaming=False)
        await self.request.add(text)
        await self.request.finish()
        self.request = None  # (left in place on failure: _close abandons it)

    def _streaming(self, what: str) -> SpokenRequest:
        if self.request is None:
            raise Refusal("no-stream", f"{what} outside a stream: send synthesize-start first")
        return self.request

    async def send(self, event: Event) -> None:
        """Write one event; ClientGone if the client has read none of what was sent for
        WYOMING_WRITE_TIMEOUT_S (what is buffered stays under the transport's high-water mark
        plus one event)."""
        try:
            await asyncio.wait_for(
                async_write_event(event, self.writer), self.options.write_timeout_s
            )
        except TimeoutError:
            self._stalled = True
            log.info(
                "wyoming: a client stopped reading for %s s (WYOMING_WRITE_TIMEOUT_S): dropped",
                self.options.write_timeout_s,
            )
            raise ClientGone from None

    async def _next_event(self) -> Event | None:
        """The next event; meanwhile a failed request's error is raised, and a connection
        idle for WYOMING_IDLE_TIMEOUT_S (no event, nothing being spoken) refused."""
        if self._read is None:
            self._read = asyncio.create_task(read_event(self.reader, self.max_data))
        while True:
            speaking = self.request.task if self.request else None
            waits = {self._read, *([speaking] if speaking and not speaking.done() else [])}
            done, _ = await asyncio.wait(
                waits, timeout=self.options.idle_timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
            if speaking in done:
                speaking.result()  # a failure ends the connection with its error
            if self._read in done:
                read, self._read = self._read, None
                return read.result()
            if not done and not (self.request and self.request.speaker.pending):
                raise Refusal(
                    "idle", f"no event for {self.options.idle_timeout_s:g} s "
                    "(WYOMING_IDLE_TIMEOUT_S): closing"
                )  # fmt: skip

    async def _say(self, event: Event) -> None:
        """An error event, sent if the client still reads; never raises."""
        if self._stalled or self.writer.is_closing():
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(async_write_event(event, self.writer), CLOSE_GRACE_S)

    async def _close(self) -> None:
        if self._read is not None:
            self._read.cancel()
        if self.request is not None:
            await self.request.abandon()
            self.request = None
        transport = self.writer.transport
        if self._stalled:
            transport.abort()  # what the client never read is dropped, not kept
            return
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), CLOSE_GRACE_S)
        except (TimeoutError, ConnectionError, OSError):
            transport.abort()


def _text(data: dict, what: str) -> str:
    text = data.get("text")
    if not isinstance(text, str):
        raise BadEvent(f"{what} needs its text as a string")
    return text


def _plain_text(data: dict) -> None:
    if data.get("text_format") not in (None, "text"):
        raise Refusal("text-format", 'only text_format "text" is spoken here (not SSML)')
