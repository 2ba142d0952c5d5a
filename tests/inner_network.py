"""Stand-ins for a network, so that tests of the address guard reach nothing past loopback.

- `LoopbackServer`: an HTTP server on 127.0.0.1 that records what reaches it and answers as
  told, the stand-in for a server inside the service's network;
- `dns`: names resolved as the test says (utils/net/addresses.py's resolver replaced);
- `network`: every connection the guard makes, by the address it asked for; one to `PUBLIC`
  (a public address, never connected to) is carried to a loopback port instead.

Test modules import the fixtures (`dns_fixture`, `network_fixture`) and ask for them as `dns`
and `network`.
"""

from __future__ import annotations

import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from utils.net import addresses, guarded_transport


class LoopbackServer:
    def __init__(self, status: int = 200, body: bytes = b"{}", headers: dict | None = None):
        self.status, self.body, self.headers = status, body, headers or {}
        self.requests: list[dict] = []
        self.connections = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("content-length") or 0)
                server.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length) if length else b"",
                    }
                )
                self.send_response(server.status)
                for name, value in {"content-type": "application/json", **server.headers}.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request, client_address):
                server.connections += 1
                return True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def wrap(self, context) -> None:
        """Speak TLS with this server-side SSL context (call before entering)."""
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


PUBLIC = "93.184.215.14"  # stands for a public server; never connected to


@pytest.fixture(name="dns")
def dns_fixture(monkeypatch):
    """Names resolved as the test says (else as the real resolver does, for literals)."""
    names: dict[str, list[str]] = {}
    real = addresses.resolve

    def resolve(host, port):
        if host in names:
            return [ipaddress.ip_address(a) for a in names[host]]
        return real(host, port)

    monkeypatch.setattr(addresses, "resolve", resolve)
    return names


@pytest.fixture(name="network")
def network_fixture(monkeypatch):
    """Every connection made, by the address asked; a public address is carried to `route`."""
    state = SimpleNamespace(made=[], route=None)
    real = guarded_transport.open_tcp

    def open_tcp(address, port, **options):
        state.made.append((address, port))
        if address == PUBLIC:
            address, port = "127.0.0.1", state.route
        return real(address, port, **options)

    monkeypatch.setattr(guarded_transport, "open_tcp", open_tcp)
    return state
