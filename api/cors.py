"""Browser pages on other origins (CORS_* settings, settings/cors.py).

HTTP: Starlette's CORSMiddleware, configured with what the API reads and sends. api/main.py
puts it outside Starlette's ServerErrorMiddleware, so that pre-flights are answered before
anything can refuse them (a Host check, the body limit; an OPTIONS request carries no key) and
every answer, a 500 included, carries the headers a page needs to read it.

WebSockets: a browser opening one sends its page's Origin, and cannot be stopped by CORS (the
handshake is no fetch). A socket opened with an Origin that is neither the service's own nor
allowed by the CORS settings is refused before it is accepted (403), so a page elsewhere cannot
use a key a visitor's browser holds. Clients that are not browsers send no Origin: unaffected.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp
from starlette.websockets import WebSocket

from config import Settings
from settings.cors import CorsSettings
from utils.logs import REQUEST_ID_HEADER

# Every method a route answers (the WebSockets' GET included).
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")
# Request headers the API reads: the key or token, JSON or SSML bodies, byte ranges of audio,
# a client's own request id, ElevenLabs' key header.
REQUEST_HEADERS = ("Authorization", "Content-Type", "Range", REQUEST_ID_HEADER, "xi-api-key")
# Response headers a page reads beyond those every page may (Content-Type, Cache-Control...):
# a player's ranges and length, a download's name, where a created job or key is, when to try
# again after a 429 or 503, the request id to quote, the job behind /v1/audio/speech.
EXPOSED_HEADERS = (
    "Content-Range",
    "Content-Length",
    "Accept-Ranges",
    "Content-Disposition",
    "Location",
    "Retry-After",
    "WWW-Authenticate",
    REQUEST_ID_HEADER,
    "X-Job-Id",
)
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def with_cors(app: ASGIApp, cors: CorsSettings) -> ASGIApp:
    """`app` behind CORS as configured; `app` itself where no origin is allowed."""
    if not cors.enabled:
        return app
    return CORSMiddleware(
        app,
        allow_origins=cors.allow_origins,
        allow_origin_regex=cors.allow_origin_regex,
        allow_methods=METHODS,
        allow_headers=[*REQUEST_HEADERS, *cors.allow_headers],
        allow_credentials=cors.allow_credentials,
        expose_headers=EXPOSED_HEADERS,
        max_age=cors.max_age,
    )


def _host_and_port(netloc: str) -> tuple[str | None, int | None]:
    """A Host header's (or URL's) host and the port it names, None where it names none."""
    try:
        parts = urlsplit(f"//{netloc}")
        return parts.hostname, parts.port
    except ValueError:
        return None, None


def same_origin(origin: str, websocket: WebSocket, settings: Settings) -> bool:
    """Whether `origin` is the service's own: the host the socket was opened on (the Host
    header), or PUBLIC_BASE_URL's; and its port where that names one. Schemes are not compared,
    nor a port where the Host names none: behind a proxy that ends TLS, the service sees ws://
    on port 80 where the page saw https:// on 443."""
    try:
        parts = urlsplit(origin)
        host, port = parts.hostname, parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    own = [websocket.headers.get("host", ""), urlsplit(settings.PUBLIC_BASE_URL).netloc]
    for own_host, own_port in map(_host_and_port, filter(None, own)):
        if host and host == own_host and own_port in (None, port):
            return True
    return False


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """Whether a WebSocket may be accepted as far as its Origin goes: none (not a browser), the
    service's own, or one the CORS settings allow."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    origin = origin.lower()
    cors = settings.cors
    if "*" in cors.allow_origins or origin in cors.allow_origins:
        return True
    if cors.allow_origin_regex and re.fullmatch(cors.allow_origin_regex, origin):
        return True
    return same_origin(origin, websocket, settings)
