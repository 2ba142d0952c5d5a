"""Refuse request bodies over MAX_BODY_BYTES (413) before they are read into memory.

A route that takes uploads larger than that (an EPUB at POST /tts/book: BOOK_MAX_UPLOAD_BYTES)
is given its own limit by path (`larger`); every other route keeps the one limit.

Checks the declared Content-Length and also counts what actually arrives, so a chunked body
cannot slip past the limit: past it, the middleware answers 413 itself and tells the app the
client went away, and whatever the app tries to send after that is dropped.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.larger.get(scope["path"], self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._too_large(max_bytes)(scope, receive, send)
            return
        received = 0
        app_started = refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes and not app_started:
                    refused = True
                    await self._too_large(max_bytes)(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal app_started
            if refused:
                return
            app_started = app_started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, guarded_send)

    def _too_large(self, max_bytes: int) -> JSONResponse:
        return JSONResponse(
            status_code=413, content={"detail": f"request body over {max_bytes} bytes"}
        )
