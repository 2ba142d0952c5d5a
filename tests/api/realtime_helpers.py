"""Serving the app over TLS with a certificate made for the test, and reading the input
streaming protocol's answers (tests of api/realtime/)."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
from pathlib import Path

import httpx


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (its own authority, so a client
    trusts it through SSL_CERT_FILE); (certificate file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tts test server")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


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
