"""An error answered is an error handled: the connection it came on stays usable.

Starlette's outermost middleware (ServerErrorMiddleware) sends the 500 that our handler builds
(api/errors.py, which logs the error) and then raises the exception again, so that a server
may log it; uvicorn, seeing an exception after the response has begun, closes the connection,
and the client's next request on that keep-alive connection fails with a reset. Once the whole
response has been sent, the exception has been answered and logged: it ends here.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class KeepAliveAfterErrors:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answered = False

        async def send_tracked(message: Message) -> None:
            nonlocal answered
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = True

        try:
            await self.app(scope, receive, send_tracked)
        except Exception:
            if not answered:  # nothing (or half a response) sent: the server must end it
                raise
