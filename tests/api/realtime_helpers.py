"""Serving the app over TLS with a certificate made for the test, and reading the input
streaming protocol's answers (tests of api/realtime/)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx

from tests.certificates import self_signed


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost; (certificate file, key file)."""
    return self_signed(folder, ("localhost",), ("127.0.0.1",))


def token_for(url: str, name: str = "alice", verify=True) -> str:
    response = httpx.post(
        f"{url}/token",
        data={"username": name, "password": f"{name}-password"},
        timeout=10,
        verify=verify,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def ws_url(http_url: str, voice: str, path: str = "stream-input", **query) -> str:
    base = http_url.replace("http", "ws", 1)
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return f"{base}/v1/text-to-speech/{voice}/{path}" + (f"?{params}" if params else "")


def audio_of(messages: list[dict]) -> bytes:
    return b"".join(base64.b64decode(m["audio"]) for m in messages if m.get("audio"))


def loads(raw: str | bytes) -> dict:
    return json.loads(raw)


class RawClient:
    """A WebSocket client on a plain socket with a small receive buffer, which reads only when
    told: unlike a client library, which reads everything into its own memory, it leaves the
    unread audio with the server (websockets' sans-I/O protocol does the framing)."""

    def __init__(self, url: str, headers: dict[str, str], receive_buffer: int = 8192):
        import socket

        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        uri = parse_uri(url)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.connect((uri.host, uri.port))
        self.protocol = ClientProtocol(uri)
        request = self.protocol.connect()
        request.headers.update(headers)
        self.protocol.send_request(request)
        self._flush()
        while self.protocol.handshake_exc is None and not self._opened():
            self._receive()
        self.events: list = []

    def _opened(self) -> bool:
        from websockets.protocol import State

        return self.protocol.state is State.OPEN

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def _receive(self) -> bool:
        data = self.sock.recv(65536)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        self._flush()
        return bool(data)

    def send(self, payload: dict) -> None:
        self.protocol.send_text(json.dumps(payload).encode())
        self._flush()

    def read_all(self, timeout_s: float = 120) -> tuple[list[dict], int | None]:
        """Every message until the server closes; (the messages, the close code)."""
        from websockets.frames import Opcode

        self.sock.settimeout(timeout_s)
        messages = []
        while True:
            try:
                more = self._receive()
            except OSError:
                more = False
            for event in self.protocol.events_received():
                if getattr(event, "opcode", None) is Opcode.TEXT:  # the handshake is one too
                    messages.append(json.loads(event.data))
            if not more:
                break
        close = self.protocol.close_rcvd
        self.sock.close()
        return messages, close.code if close else None
