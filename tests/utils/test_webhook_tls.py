"""An https webhook attempt connects to the checked address yet speaks TLS to the name: the
server sees the name as SNI and its certificate, valid for the name only, is verified."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx

from tests.certificates import self_signed
from utils.webhooks.addresses import AddressPolicy
from utils.webhooks.sender import post_event
from utils.webhooks.signing_secrets import new_secret


def certificate_for(name: str, folder) -> tuple[str, str]:
    """A self-signed certificate valid for `name` alone (no IP address in it)."""
    cert, key = self_signed(folder, (name,))
    return str(cert), str(key)


def test_https_names_the_host_to_tls_while_connecting_to_the_checked_address(tmp_path):
    cert, key = certificate_for("localhost", tmp_path)
    seen: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["content-length"]))
            seen["host"] = self.headers["host"]
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def note_sni(sock, name, ctx):  # None: go on with the handshake
        seen["sni"] = name

    context.sni_callback = note_sni
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.handle_request, daemon=True).start()
    port = server.server_address[1]
    trusting = ssl.create_default_context(cafile=cert)  # trusts this certificate alone
    try:
        attempt = post_event(
            f"https://localhost:{port}/hook",
            "{}",
            new_secret(),
            "msg_1",
            AddressPolicy(allowed_hosts=("localhost",)),
            5,
            transport=httpx.HTTPTransport(verify=trusting),
        )
    finally:
        server.server_close()
    assert attempt.status_code == 204, attempt
    assert seen == {"sni": "localhost", "host": f"localhost:{port}"}
