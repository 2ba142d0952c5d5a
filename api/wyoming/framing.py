"""Wyoming events read with bounds, and the error event that answers what cannot be read.

The `wyoming` package's reader takes a line of any length up to the stream's limit, then
whatever `data_length` and `payload_length` announce: a client could make the server allocate
gigabytes with one header. This reader refuses an event past MAX_LINE_BYTES, MAX_DATA_BYTES or
MAX_PAYLOAD_BYTES before reading it, and anything that is not a Wyoming event (not JSON, not an
object, no type) as BadEvent, which the handler answers with an `error` event.
"""

from __future__ import annotations

import asyncio
import json

from wyoming.error import Error
from wyoming.event import Event

MAX_LINE_BYTES = 64 * 1024  # the header line (StreamReader's limit, as the server builds it)
# A TTS server takes no audio in: a payload is read (to stay in step) only if small.
MAX_PAYLOAD_BYTES = 64 * 1024


class BadEvent(Exception):
    """What the client sent is not an event this server will read; the message says why."""


def max_data_bytes(max_text_chars: int) -> int:
    """The largest `data` an event may carry: text of max_text_chars (UTF-8, at most four bytes
    a character, JSON-escaped up to six), and room for the rest of the fields."""
    return 6 * max_text_chars + 16 * 1024


def _json_object(raw: bytes, what: str) -> dict:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadEvent(f"the event's {what} is not JSON") from None
    if not isinstance(value, dict):
        raise BadEvent(f"the event's {what} is not a JSON object")
    return value


def _length(header: dict, name: str, limit: int) -> int:
    value = header.get(name) or 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadEvent(f"{name} must be a whole number of bytes")
    if value > limit:
        raise BadEvent(f"{name} {value} is over the limit of {limit} bytes")
    return value


async def read_event(reader: asyncio.StreamReader, max_data: int) -> Event | None:
    """The next event; None when the client has closed. BadEvent for anything else."""
    try:
        line = await reader.readline()
    except ValueError:  # past the reader's limit: asyncio has dropped what it read
        raise BadEvent(f"an event's header line is over {MAX_LINE_BYTES} bytes") from None
    if not line:
        return None
    if not line.endswith(b"\n"):
        raise BadEvent("the connection ended inside an event")
    header = _json_object(line, "header")
    kind = header.get("type")
    if not isinstance(kind, str) or not kind:
        raise BadEvent("an event needs a type (text)")
    data = header.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BadEvent("an event's data must be a JSON object")
    data_length = _length(header, "data_length", max_data)
    payload_length = _length(header, "payload_length", MAX_PAYLOAD_BYTES)
    try:
        if data_length:
            data = {**data, **_json_object(await reader.readexactly(data_length), "data")}
        payload = await reader.readexactly(payload_length) if payload_length else None
    except asyncio.IncompleteReadError:
        raise BadEvent("the connection ended inside an event") from None
    return Event(type=kind, data=data, payload=payload)


def error_event(text: str, code: str) -> Event:
    """Wyoming's error event. `code` is one of the handler's codes (handler.py), for a client
    to act on; `text` says what was wrong and what is allowed."""
    return Error(text=text, code=code).event()
