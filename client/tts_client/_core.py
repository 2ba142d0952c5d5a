"""What the sync and async clients share: request bodies, retry timing, errors from
responses, the event-stream parser. Nothing here does I/O, so both clients stay thin."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from tts_client.errors import (
    AuthError,
    Conflict,
    FieldProblem,
    NotFound,
    RateLimited,
    ServerError,
    TTSError,
    ValidationError,
)
from tts_client.models import Block, JobStatus

USER_AGENT = "tts-client/1.0.0"
EVENTS_PATH = "/jobs/{job_id}/events"
BOOK_PATH = "/tts/book"  # an EPUB as the body: the service reads it (one home for parsing)
EPUB_TYPE = "application/epub+zip"
# The event feed answers these until it exists on the server: then poll GET /status.
NO_EVENTS = (404, 405)


@dataclass(frozen=True)
class RetryPolicy:
    """How 429 and 503 are retried: after the server's Retry-After where it sends one, else
    after base_s * 2**n. A Retry-After longer than max_wait_s is not waited for: the error is
    raised at once, carrying it, so a script is never stuck for minutes unasked."""

    attempts: int = 5  # tries of one request, the first included
    base_s: float = 0.5
    max_wait_s: float = 30.0

    def delay(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before try `attempt + 1`, or None to stop trying."""
        if response.status_code not in (429, 503) or attempt + 1 >= self.attempts:
            return None
        after = retry_after(response)
        wait = self.base_s * 2**attempt if after is None else after
        return wait if wait <= self.max_wait_s else None


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds: a number, or an HTTP date."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Credentials:
    """An API key, or a username and password traded for a token (again after a 401)."""

    def __init__(self, api_key: str | None, username: str | None, password: str | None):
        if api_key is None and (username is None or password is None):
            raise ValueError("give api_key, or username and password")
        self.api_key, self.username, self.password = api_key, username, password
        self.token: str | None = None

    @property
    def needs_token(self) -> bool:
        return self.api_key is None and self.token is None

    @property
    def can_refresh(self) -> bool:
        return self.api_key is None

    def header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key or self.token}"}

    def token_form(self) -> dict[str, str]:
        return {"username": self.username or "", "password": self.password or ""}


def error_from(response: httpx.Response) -> TTSError:
    """The exception for an error response, with the service's own message."""
    code = response.status_code
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if code == 422 and isinstance(detail, list):
        return ValidationError([_problem(p) for p in detail if isinstance(p, dict)], code, body)
    message = detail if isinstance(detail, str) else f"HTTP {code}: {response.reason_phrase}"
    if code in (401, 403):
        return AuthError(message, code, body)
    if code == 404:
        return NotFound(message, code, body)
    if code == 409:
        return Conflict(message, body.get("status") if isinstance(body, dict) else None, body=body)
    if code == 422:
        return ValidationError([FieldProblem("body", message)], code, body)
    if code == 429:
        return RateLimited(message, retry_after(response), body=body)
    if code >= 500:
        return ServerError(message, code, body)
    return TTSError(message, code, body)


def _problem(raw: dict) -> FieldProblem:
    loc = tuple(raw.get("loc") or ())
    field = raw.get("field") or ".".join(str(p) for p in loc[1:]) or "body"
    return FieldProblem(field, raw.get("msg", "invalid value"), loc, raw.get("type", ""))


def job_body(
    blocks: Iterable[str | dict | Block] | None = None,
    *,
    text: str | None = None,
    ssml: str | None = None,
    job: dict | None = None,
    provider: str | None = None,
    voice: str | None = None,
    speed: float | None = None,
    wait_after_ms: int | None = None,
    output_format: str | None = None,
    combine: bool | None = None,
) -> dict:
    """The JSON of POST /tts. One of blocks (strings, dicts or Blocks), text (one block), ssml
    (one SSML document) or job (a whole body, sent as it is). provider, voice, speed and
    wait_after_ms fill the blocks that do not set them."""
    given = [x for x in (blocks, text, ssml, job) if x is not None]
    if len(given) != 1:
        raise ValueError("give one of blocks, text, ssml or job")
    if job is not None:
        return dict(job)
    body: dict[str, Any] = {}
    if ssml is not None:
        if provider or voice or speed or wait_after_ms:
            raise ValueError("an SSML job sets voices, rates and pauses inside the SSML")
        body["ssml"] = ssml
    else:
        defaults = {"provider": provider, "voice": voice, "speed": speed}
        defaults["wait_after_ms"] = wait_after_ms
        items = [text] if text is not None else list(blocks or [])
        body["blocks"] = [_block(item, defaults) for item in items]
    if output_format is not None:
        body["output_format"] = output_format
    if combine is not None:
        body["combine"] = combine
    return body


def _block(item: str | dict | Block, defaults: dict) -> dict:
    if isinstance(item, str):
        item = {"text": item}
    elif isinstance(item, Block):
        item = item.model_dump(exclude_none=True)
    block = {k: v for k, v in defaults.items() if v is not None}
    block.update({k: v for k, v in item.items() if v is not None})
    return block


def chapter_field(openapi: dict) -> str | None:
    """How the server's blocks take a chapter: "string" (its title), "boolean", or None when
    they do not (then a heading is a block of its own)."""
    schemas = openapi.get("components", {}).get("schemas", {})
    prop = schemas.get("BlockIn", {}).get("properties", {}).get("chapter")
    if prop is None:
        return None
    types = {prop.get("type")} | {p.get("type") for p in prop.get("anyOf", [])}
    return "boolean" if "boolean" in types and "string" not in types else "string"


class EventParser:
    """Server-sent events, a line at a time: (event, data) when an event is complete."""

    def __init__(self) -> None:
        self._event, self._data = "message", []

    def feed(self, line: str) -> tuple[str, str] | None:
        line = line.rstrip("\r")
        if not line:
            event, data = self._event, self._data
            self._event, self._data = "message", []
            return (event, "\n".join(data)) if data else None
        if line.startswith(":"):
            return None  # a comment: keep-alive
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None


def status_event(event: str, data: str) -> JobStatus | None:
    if event != "status":
        return None
    try:
        return JobStatus.model_validate(json.loads(data))
    except ValueError:
        return None


class Poll:
    """Polling's pace: quick while things change, slower (up to max_s) while they do not."""

    def __init__(self, interval_s: float, max_s: float = 1.0):
        self.first, self.interval, self.max = interval_s, interval_s, max_s
        self.last: dict | None = None

    def changed(self, status: JobStatus) -> bool:
        now = status.model_dump()
        changed, self.last = now != self.last, now
        self.interval = self.first if changed else min(self.interval * 1.5, self.max)
        return changed
