"""Logs as JSON lines (production) or readable text (development), through structlog.

Every `logging` call in the code and its libraries (uvicorn, Celery, the SDKs) goes through one
handler on the root logger whose formatter is structlog's ProcessorFormatter, so they come out
in one shape without being rewritten. Each line carries the fields of the request or task it
belongs to: `request_id`, `user`, `job_id`, `block`, `provider`, `duration_ms` where known.

Fields of a request or a task live in one dict per request (`bind_fields`), which code further
down adds to (`note`). A dict rather than one context variable per field: FastAPI runs sync
dependencies and endpoints in a thread pool with a copy of the context, so a context variable
set there would never be seen by the middleware's last line; the dict is shared.

Secrets: a field named like a credential is replaced, and a bearer token or API key inside a
message or a traceback is cut out, before any line is written; tracebacks never show local
variables (query strings of the access log are redacted earlier, by api/access_log.py).
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar, Token
from typing import Any

import structlog
from structlog.stdlib import ProcessorFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# An id a client (or a proxy in front) sends is taken as it is only if it cannot break a log
# line or a header: letters, digits and ._:- only, at most 128 characters.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
SECRET_FIELDS = frozenset(
    {"token", "access_token", "api_key", "password", "authorization", "secret", "secret_key"}
)
REDACTED = "[redacted]"
LINE_FIELDS = ("request_id", "user", "job_id", "block", "provider", "duration_ms")
_SECRET_TEXT = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+|tts_sk_[A-Za-z0-9_-]+")
_URL_PASSWORD = re.compile(r"(://[^/\s:@]*:)[^@\s/]+@")  # redis://:PASSWORD@host
# Loggers that libraries give handlers of their own; theirs are dropped so records reach ours.
_LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "celery")
# HTTP clients log every request at INFO: at hundreds of provider calls a second that is noise
# (each call has its own line, "provider call", from workers/metrics.py). Failures still show.
_CHATTY_LOGGERS = ("httpx", "httpx2", "httpcore")

_fields: ContextVar[dict[str, Any] | None] = ContextVar("tts_log_fields", default=None)


def request_id_from(header: str | None) -> str:
    """The client's request id if it is sane, else a new one."""
    if header and _SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def bind_fields(**fields: Any) -> Token:
    """Start the fields of one request or task; `reset_fields(token)` ends them."""
    return _fields.set({k: v for k, v in fields.items() if v is not None})


def reset_fields(token: Token) -> None:
    _fields.reset(token)


def note(**fields: Any) -> None:
    """Add fields to the current request's or task's lines (seen by every thread serving it)."""
    current = _fields.get()
    if current is not None:
        current.update({k: v for k, v in fields.items() if v is not None})


def current_fields() -> dict[str, Any]:
    return dict(_fields.get() or {})


def _add_fields(_logger, _method, event: dict[str, Any]) -> dict[str, Any]:
    for key, value in (_fields.get() or {}).items():
        event.setdefault(key, value)
    return event


def _scrub(_logger, _method, event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.lower() in SECRET_FIELDS:
            event[key] = REDACTED
        elif isinstance(value, str):
            event[key] = scrub_text(value)
    return event


def scrub_text(text: str) -> str:
    """`text` without bearer tokens, API keys, or passwords in URLs."""
    if "earer" in text or "tts_sk_" in text:
        text = _SECRET_TEXT.sub(
            lambda m: f"{m.group(1)}{REDACTED}" if m.group(1) else REDACTED, text
        )
    if "@" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    return text


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is written (a test's capture, say), not
    to the one there was when logging was configured."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure_logging(log_format: str, level: int | str = logging.INFO) -> None:
    """Route every log record of this process through structlog, as JSON or text.

    Safe to call again (each app a test builds calls it): the handler is replaced, not added.
    """
    shared = [
        structlog.contextvars.merge_contextvars,
        _add_fields,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    formatter = ProcessorFormatter(
        # A `logging` call's extra= fields of ours become fields of the line; other libraries'
        # extras (Celery's task data) are left out.
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(allow=LINE_FIELDS)],
        # A traceback becomes plain text before it is scrubbed, in both formats: the console
        # renderer's own (rich's) would print every frame's local variables (request bodies,
        # keys, tokens) after the scrubbing, where nothing could take them out again.
        processors=[
            ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _scrub,
            renderer,
        ],
    )
    handler = _Stderr()
    handler.setFormatter(formatter)
    handler.tts_handler = True
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "tts_handler", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in _LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        # A logger turned off on purpose (uvicorn --no-access-log) has no handlers: left so.
        if library.handlers:
            library.handlers.clear()
            library.propagate = True
