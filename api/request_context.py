"""Every HTTP request gets a request id, its log fields and its metrics.

A plain ASGI middleware (no BaseHTTPMiddleware: streams pass through untouched, and the cost
is a few dict operations per request), around everything else, Starlette's error layer and CORS
included (api/main.py), so a 500 and a pre-flight get all this too:

- the request id is the client's X-Request-ID when sane (utils/logs.py), else a new one; it is
  sent back in the response's X-Request-ID, bound to every log line written while serving the
  request, and carried into the job's tasks (workers/log_fields.py);
- tts_http_requests_total and tts_http_request_duration_seconds count it by route template
  (`/status/{job_id}`, never the raw path: one series per route, not per job);
- uvicorn's access line, written as the response starts, is the request's line: it gets
  `route`, `status` and `duration_ms` (until the response started) beside the request id and
  `user`. So one line per request, switched off with uvicorn's own --no-access-log (as the
  benchmarks start the API); its query string is redacted by api/access_log.py.
"""

from __future__ import annotations

import time

from utils.logs import REQUEST_ID_HEADER, bind_fields, note, request_id_from, reset_fields
from utils.metrics import HTTP_DURATION, HTTP_REQUESTS

_HEADER = REQUEST_ID_HEADER.lower().encode()
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# No route: 404s, requests refused before routing (a bad Host), routes other than FastAPI's.
UNMATCHED = "unmatched"


class RequestContext:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(_HEADER)
        request_id = request_id_from(sent.decode("latin-1") if sent else None)
        token = bind_fields(request_id=request_id)
        status = 500  # what the client gets if the app fails before answering
        start = time.perf_counter()

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != _HEADER]
                message["headers"] = [*headers, (_HEADER, request_id.encode())]
                # Read by the access line, which uvicorn writes inside this send.
                note(
                    route=route_template(scope),
                    status=status,
                    duration_ms=round((time.perf_counter() - start) * 1000),
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            route = route_template(scope)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_DURATION.labels(method, route).observe(elapsed)
            reset_fields(token)


def route_template(scope) -> str:
    """The matched route's path template; FastAPI leaves the route in the scope."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path or UNMATCHED
