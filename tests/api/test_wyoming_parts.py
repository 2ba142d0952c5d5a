"""The Wyoming server's plain parts: where a stream's sentences end, how events are read."""

from __future__ import annotations

import asyncio
import json

import pytest

from api.wyoming.framing import BadEvent, max_data_bytes, read_event
from api.wyoming.requests import complete_sentences


@pytest.mark.parametrize(
    ("buffer", "done", "rest"),
    [
        ("Hello there", "", "Hello there"),
        ("Hello there.", "", "Hello there."),  # may go on: "Hello there.com"
        ("Hello there. How", "Hello there. ", "How"),
        ("I met Dr. Smith", "", "I met Dr. Smith"),  # "Dr." ends nothing
        ("It costs 3.50 dollars. Then", "It costs 3.50 dollars. ", "Then"),
        ("One. Two! Three? Fo", "One. Two! Three? ", "Fo"),
    ],
)
def test_a_sentence_is_complete_once_the_next_has_begun(buffer, done, rest):
    assert complete_sentences(buffer, "en") == (done, rest)
    assert done + rest == buffer  # nothing lost, nothing added


def read(data: bytes, max_data: int = 1000):
    async def go():
        reader = asyncio.StreamReader(limit=64 * 1024)
        reader.feed_data(data)
        reader.feed_eof()
        return await read_event(reader, max_data)

    return asyncio.run(go())


def test_an_event_with_data_and_payload():
    data = json.dumps({"text": "Hi."}).encode()
    header = {"type": "synthesize", "data": {"a": 1}, "data_length": len(data), "payload_length": 2}
    event = read(json.dumps(header).encode() + b"\n" + data + b"xy")
    assert (event.type, event.data, event.payload) == ("synthesize", {"a": 1, "text": "Hi."}, b"xy")


def test_the_end_of_the_connection_is_none():
    assert read(b"") is None


@pytest.mark.parametrize(
    "data",
    [
        b"nope\n",
        b'"text"\n',
        b'{"type": 3}\n',
        b'{"type": "x", "data": []}\n',
        b'{"type": "x", "data_length": -1}\n',
        b'{"type": "x", "data_length": true}\n',
        b'{"type": "x", "data_length": 1001}\n',  # over max_data: refused before reading
        b'{"type": "x", "data_length": 10}\n{}',  # the connection ends inside the event
        b'{"type": "x", "data_length": 2}\n[]',
        b'{"type": "x"}',  # no newline: ended inside the header
        b"\xff\xfe\n",
    ],
)
def test_what_is_not_an_event_is_refused(data):
    with pytest.raises(BadEvent):
        read(data)


def test_the_data_limit_leaves_room_for_the_longest_text():
    text = "\u00e9" * 4096
    assert len(json.dumps({"text": text}).encode()) < max_data_bytes(4096)
