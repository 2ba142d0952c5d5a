"""One WebSocket connection of the input-streaming protocol, from the first message to the
close.

The first message (or the upgrade's headers) carries the key; the connection then takes a place
among the user's open streams (MAX_STREAMS_PER_USER) until it closes. A reader takes the client's
messages, with the inactivity timeout between them; a writer sends the answers from a bounded
outbox, so a client that reads slowly slows the contexts down (they wait to put their audio),
and one that stops reading for SEND_TIMEOUT_S is closed. Every way out, an error included,
closes every context (their jobs not yet made are cancelled) and gives the stream place back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import replace

from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from api.realtime.access import lexicons_of, stream_place, target_of, user_of
from api.realtime.context import Context, Services
from api.realtime.protocol import (
    INTERNAL,
    NORMAL,
    SCHEDULE_DEFAULT,
    ClientMessage,
    ProtocolError,
    Query,
    final_message,
    parse_message,
    parse_query,
)
from api.streaming import LEASE_S, StreamHold

log = logging.getLogger(__name__)

OUTBOX_MESSAGES = 8  # answers waiting for the writer: about 4 s of audio
SEND_TIMEOUT_S = 30.0  # a client that takes no message for this long is gone
MAX_CONTEXTS = 5  # per connection, as ElevenLabs allows
DEFAULT_CONTEXT = "default"
NOT_READING = "client_not_reading"


class Session:
    def __init__(self, websocket: WebSocket, voice_id: str, multi: bool):
        self.ws, self.voice_id, self.multi = websocket, voice_id, multi
        self.query: Query | None = None
        self.state = websocket.app.state
        settings = self.state.settings
        self.services = Services(
            aredis=self.state.aredis,
            storage=self.state.storage,
            submitter=self.state.submitter,
            jobs=self.state.jobs,
            piece_chars=settings.speech.piece_chars,
            max_block_chars=settings.MAX_BLOCK_CHARS,
            max_text_chars=settings.speech.max_input_chars,
            give_up_s=settings.speech.first_piece_timeout_s,
        )
        self.outbox: asyncio.Queue[tuple[str | None, dict]] = asyncio.Queue(OUTBOX_MESSAGES)
        self.contexts: dict[str, Context] = {}
        self.closed_ids: set[str] = set()
        self.hold: StreamHold | None = None
        self.tasks: list[asyncio.Task] = []
        self.user = self.target = None
        self.input_ended = asyncio.Event()
        self.failure: asyncio.Future = asyncio.get_running_loop().create_future()

    async def run(self, key: str | None) -> None:
        try:
            await self._run(key)
        except ProtocolError as exc:
            await self._fail(exc)
        except WebSocketDisconnect:
            pass
        except Exception:
            log.exception("input stream failed")  # never the error's text to the client
            await self._fail(ProtocolError("internal error", "internal_error", INTERNAL))
        finally:
            await self._cleanup()

    async def _run(self, key: str | None) -> None:
        self.query = parse_query(dict(self.ws.query_params))
        first = await self._receive()
        self.user = await user_of(key or first.key, self.state)
        self.hold = await stream_place(self.user, self.state)
        self.target = await target_of(self.voice_id, self.query.model_id, self.user, self.state)
        say = await run_in_threadpool(lexicons_of, self.state, self.user, first.lexicons)
        self.services = replace(self.services, say=say)
        self.tasks = [asyncio.create_task(self._writer()), asyncio.create_task(self._renew())]
        self.first = first
        await self._handle(first)
        reader = asyncio.create_task(self._read())
        done = asyncio.create_task(self._all_done())
        self.tasks += [reader, done]
        finished, _ = await asyncio.wait(
            [reader, done, self.tasks[0], self.failure], return_when=asyncio.FIRST_COMPLETED
        )
        for task in finished:
            task.result()  # a ProtocolError or a disconnect, raised here
        await self._drain()
        await self._close(NORMAL)

    async def _receive(self) -> ClientMessage:
        timeout = None if self.input_ended.is_set() else self.query.inactivity_timeout
        try:
            message = await asyncio.wait_for(self.ws.receive(), timeout)
        except TimeoutError:
            raise ProtocolError(
                f"no message for {self.query.inactivity_timeout:g} s (inactivity_timeout); "
                'send " " to keep the connection open',
                "input_timeout_exceeded",
            ) from None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if message.get("text") is None:
            raise ProtocolError("messages must be JSON text, not binary", "invalid_message")
        return parse_message(message["text"])

    async def _read(self) -> None:
        while not self.input_ended.is_set():
            await self._handle(await self._receive())
        # The input ended: the client may still close; nothing else it sends matters.
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))

    async def _context(self, context_id: str, opening: ClientMessage) -> Context:
        if context_id in self.contexts:
            return self.contexts[context_id]
        if context_id in self.closed_ids:
            raise ProtocolError(f"context {context_id!r} was closed", "context_closed")
        if len(self.contexts) >= MAX_CONTEXTS:
            raise ProtocolError(
                f"at most {MAX_CONTEXTS} contexts open at once on a connection",
                "max_active_conversations",
            )
        context = Context(
            self.services,
            context_id if self.multi else None,
            self.user,
            self.target,
            self.query.output_format,
            opening.schedule or self.first.schedule or SCHEDULE_DEFAULT,
            opening.speed or self.first.speed or 1.0,
            self._send,
        )
        context.send_task.add_done_callback(self._context_ended)
        self.contexts[context_id] = context
        return context

    def _context_ended(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() and not self.failure.done():
            self.failure.set_exception(task.exception())

    async def _handle(self, message: ClientMessage) -> None:
        cid = (message.context_id or DEFAULT_CONTEXT) if self.multi else DEFAULT_CONTEXT
        text = message.text or ""
        if self.multi and message.close_socket:
            for context in self.contexts.values():
                await context.end(keep_buffer=False)  # what was flushed is still spoken
            self.input_ended.set()
        elif self.multi and message.close_context:
            if context := self.contexts.pop(cid, None):
                self.closed_ids.add(cid)
                await context.close()
                await self._send(None, final_message(cid))
        elif not self.multi and message.text == "" and not message.flush:
            await (await self._context(cid, message)).end()  # {"text": ""}: the input ends
            self.input_ended.set()
        elif text or message.flush:  # on multi-stream, "" alone only keeps a context alive
            context = await self._context(cid, message)
            await context.add(text, flush=message.flush, trigger=message.try_trigger)

    async def _all_done(self) -> None:
        """Once the input has ended and every context has sent its audio."""
        await self.input_ended.wait()
        for cid, context in list(self.contexts.items()):
            await context.finished()
            if self.multi:
                await self._send(None, final_message(cid))
        if not self.multi:
            await self._send(None, final_message(None))

    async def _send(self, context_id: str | None, payload: dict) -> None:
        await self.outbox.put((context_id, payload))

    async def _writer(self) -> None:
        while True:
            context_id, payload = await self.outbox.get()
            try:
                if context_id is None or context_id not in self.closed_ids:
                    text = json.dumps(payload, separators=(",", ":"))
                    try:
                        await asyncio.wait_for(self.ws.send_text(text), SEND_TIMEOUT_S)
                    except TimeoutError:
                        raise ProtocolError(
                            f"the client read nothing for {SEND_TIMEOUT_S:g} s",
                            NOT_READING,
                        ) from None
            finally:
                self.outbox.task_done()

    async def _drain(self) -> None:
        """Until the writer has sent everything put in the outbox."""
        await self.outbox.join()

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(LEASE_S / 3)
            await self.hold.renew(self.state.aredis)

    async def _fail(self, error: ProtocolError) -> None:
        log.info("input stream closed: %s (%s)", error.error, error.code)
        for task in self.tasks:
            task.cancel()
        # A client that does not read takes neither the error nor the close: it is let go
        # at once (its stream place, its contexts), and the socket closes when it can.
        patience = 0.5 if error.error == NOT_READING else 5.0
        if self.ws.client_state == WebSocketState.CONNECTED and error.error != NOT_READING:
            text = json.dumps(error.payload())
            with contextlib.suppress(Exception):  # the client may be gone
                await asyncio.wait_for(self.ws.send_text(text), patience)
        await self._close(error.code, error.message[:120], patience)

    async def _close(self, code: int, reason: str = "", patience: float = 5.0) -> None:
        if self.ws.client_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(code, reason), patience)

    async def _cleanup(self) -> None:
        if self.failure.done():
            self.failure.exception()  # seen (it was answered, or the connection was gone)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for context in self.contexts.values():
            await context.close()
        if self.hold is not None:
            await asyncio.shield(self.hold.release(self.state.aredis))
