"""The Wyoming server through the `wyoming` package's own client, against a real worker:
describe, synthesize, streaming, and what it does with bad input and bad clients."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import numpy as np
import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from tests.audio_helpers import rms
from tests.wyoming_process import WyomingProcess
from utils.names import block_key, job_key, open_streams_key, user_jobs_key

pytestmark = pytest.mark.pipeline

RATE = 22050
TEXT = "The quick brown fox jumps over the lazy dog. It was a bright cold day in April."


@pytest.fixture(scope="module")
def wyoming(worker, session_dir):
    server = WyomingProcess(
        session_dir / "wyoming.log",
        {"WYOMING_IDLE_TIMEOUT_S": "2", "WYOMING_WRITE_TIMEOUT_S": "2"},
    ).start()
    yield server
    server.stop()


@pytest.fixture
def server(wyoming, service_redis):
    assert wyoming.alive(), wyoming.log()
    yield wyoming
    assert wyoming.alive(), f"the server died\n{wyoming.log()}"


def run(coro, timeout_s: float = 120):
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


async def exchange(port: int, *events: Event, until=("audio-stop", "error")) -> list[Event]:
    """Send `events`, then read until an event of a type in `until` (or the close)."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        for event in events:
            await client.write_event(event)
        got = []
        while (event := await client.read_event()) is not None:
            got.append(event)
            if event.type in until:
                break
        return got


def pcm_of(events: list[Event]) -> np.ndarray:
    chunks = [AudioChunk.from_event(e) for e in events if AudioChunk.is_type(e.type)]
    assert chunks, [e.type for e in events]
    assert {(c.rate, c.width, c.channels) for c in chunks} == {(RATE, 2, 1)}
    assert max(len(c.audio) for c in chunks) <= 1024 * 2  # small chunks
    return np.frombuffer(b"".join(c.audio for c in chunks), dtype="<i2")


def assert_speech(samples: np.ndarray, text: str) -> None:
    seconds = samples.size / RATE
    # Piper's joe speaks about 12-18 characters a second
    assert len(text) / 25 < seconds < len(text) / 8, seconds
    assert rms(samples) > 500  # not silence


def test_describe_lists_every_providers_voices_with_languages(server):
    events = run(exchange(server.port, Describe().event(), until=("info",)))
    info = Info.from_event(events[-1])
    [program] = info.tts
    assert program.supports_synthesize_streaming
    voices = {v.name: v for v in program.voices}
    assert voices["en_US-joe-medium"].languages == ["en_US"]  # the default provider's, by their id
    assert "openai/alloy" in voices and "local-llm/af_bella" in voices
    assert all(v.languages for v in voices.values())


def test_synthesize_speaks_the_whole_text(server):
    events = run(exchange(server.port, Synthesize(text=TEXT).event()))
    assert events[0].type == "audio-start"
    assert AudioStart.from_event(events[0]).rate == RATE
    assert AudioStop.is_type(events[-1].type)
    assert_speech(pcm_of(events), TEXT)


def test_a_named_voice_of_another_provider(server, simulator):
    voice = SynthesizeVoice(name="openai/alloy")
    events = run(exchange(server.port, Synthesize(text="Hello there.", voice=voice).event()))
    assert AudioStop.is_type(events[-1].type), events
    assert pcm_of(events).size > RATE // 4


def test_streaming_speaks_each_sentence_as_it_completes(server):
    async def scenario():
        async with AsyncTcpClient("127.0.0.1", server.port) as client:
            voice = SynthesizeVoice(name="en_US-joe-medium")
            await client.write_event(SynthesizeStart(voice=voice).event())
            for word in TEXT.split(" "):  # word by word, as an LLM writes
                await client.write_event(SynthesizeChunk(text=word + " ").event())
                await asyncio.sleep(0.02)
            # the first sentence is spoken before the stream ends
            events = [await asyncio.wait_for(client.read_event(), 30) for _ in range(2)]
            await client.write_event(Synthesize(text=TEXT).event())  # Home Assistant's copy
            await client.write_event(SynthesizeStop().event())
            while not SynthesizeStopped.is_type((event := await client.read_event()).type):
                events.append(event)
            return events

    events = run(scenario())
    types = [e.type for e in events]
    assert types[:2] == ["audio-start", "audio-chunk"]
    assert types.count("audio-start") == 1 and types[-1] == "audio-stop"
    assert "error" not in types
    assert_speech(pcm_of(events), TEXT)  # spoken once: the copy was not spoken again


def test_text_with_nothing_to_speak_is_empty_audio(server):
    events = run(exchange(server.port, Synthesize(text=" ... ").event()))
    assert [e.type for e in events] == ["audio-start", "audio-stop"]
    streamed = run(
        exchange(
            server.port,
            SynthesizeStart().event(),
            SynthesizeStop().event(),
            until=("synthesize-stopped", "error"),
        )
    )
    assert [e.type for e in streamed] == ["audio-start", "audio-stop", "synthesize-stopped"]


def test_ping(server):
    events = run(exchange(server.port, Ping(text="hi").event(), until=("pong",)))
    assert Pong.from_event(events[-1]).text == "hi"


def test_unknown_voice_is_an_error_event_and_a_close(server):
    voice = SynthesizeVoice(name="no-such-voice")
    events = run(exchange(server.port, Synthesize(text="Hello.", voice=voice).event(), until=()))
    assert [e.type for e in events] == ["error"]
    error = Error.from_event(events[0])
    assert error.code == "unknown-voice" and "no-such-voice" in error.text


def test_text_over_the_limit(server, service_redis):
    events = run(exchange(server.port, Synthesize(text="a " * 3000).event(), until=()))
    assert [Error.from_event(e).code for e in events] == ["text-too-long"]
    assert service_redis.zcard(open_streams_key("wyoming")) == 0  # its stream place given back
    stream = [SynthesizeStart().event(), *[SynthesizeChunk(text="a " * 500).event()] * 5]
    events = run(exchange(server.port, *stream, until=()))
    assert [Error.from_event(e).code for e in events] == ["text-too-long"]
    assert service_redis.zcard(open_streams_key("wyoming")) == 0


def test_a_chunk_outside_a_stream(server):
    events = run(exchange(server.port, SynthesizeChunk(text="Hi.").event(), until=()))
    assert [Error.from_event(e).code for e in events] == ["no-stream"]


def raw(port: int, data: bytes, wait_s: float = 10) -> list[dict]:
    """Send raw bytes; every event the server answers (headers only), up to its close."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    events = []
    for line in received.split(b"\n"):
        try:
            header = json.loads(line)
        except ValueError:
            continue  # a data part: its header came before it
        if isinstance(header, dict) and "type" in header:
            events.append(header)
    return events


@pytest.mark.parametrize(
    "data",
    [
        b"this is not json\n",
        b"[1, 2, 3]\n",
        b'{"data": {}}\n',
        b'{"type": "synthesize", "data": "text"}\n',
        b'{"type": "synthesize", "data_length": 99999999999}\n',
        b'{"type": "synthesize", "payload_length": 99999999999}\n',
        b'{"type": "synthesize", "data_length": 5}\nnope!',
        b'{"type": "synthesize", "data": {"text": 42}}\n',
        b'{"type": "synthesize", "data": {"text": "Hi.", "voice": "en_US-joe-medium"}}\n',
        b'{"type": "synthesize", "data": {"text": "Hi.", "text_format": "ssml"}}\n',
        b"{" + b" " * 70000 + b"\n",
    ],
)
def test_malformed_input_is_an_error_event_and_a_close(server, data):
    events = raw(server.port, data)
    assert [e["type"] for e in events] == ["error"], events


def test_an_idle_connection_is_closed_with_an_error(server):
    started = time.monotonic()
    events = raw(server.port, b"", wait_s=30)
    assert [e["type"] for e in events] == ["error"]
    assert 1.5 < time.monotonic() - started < 15


def test_a_half_sent_event_counts_as_idle(server):
    events = raw(server.port, b'{"type": "synth', wait_s=30)
    assert [e["type"] for e in events] == ["error"]


def test_a_client_that_stops_reading_is_dropped(server):
    """A long text to a client that reads nothing: the server stops sending, drops the
    connection after WYOMING_WRITE_TIMEOUT_S, and serves the next one."""
    text = "This sentence is here to make a lot of audio for nobody. " * 40
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: small
        sock.connect(("127.0.0.1", server.port))
        body = json.dumps({"text": text}).encode()
        header = json.dumps({"type": "synthesize", "data_length": len(body)}).encode()
        sock.sendall(header + b"\n" + body)
        time.sleep(12)  # made, sent until the buffers fill, then WYOMING_WRITE_TIMEOUT_S
        sock.settimeout(5)
        received, ended = 0, False
        try:
            while chunk := sock.recv(1 << 20):
                received += len(chunk)
            ended = True
        except ConnectionResetError:
            ended = True
        except TimeoutError:
            pass
    assert ended  # dropped by the server, not left open
    assert "stopped reading" in server.log()
    # what arrived is what the socket buffers took (the server's is 256 KiB) before it stopped;
    # the text makes about a minute of audio, 2.6 MB
    assert received < 1_000_000, received
    events = run(exchange(server.port, Synthesize(text="Still here.").event()))
    assert AudioStop.is_type(events[-1].type)


@pytest.fixture
def limited(worker, service_redis, tmp_path):
    """A server of its own: beyond loopback, as user alice, two requests a minute, one stream."""
    server = WyomingProcess(
        tmp_path / "wyoming.log",
        {
            "WYOMING_HOST": "0.0.0.0",
            "WYOMING_USER": "alice",
            "RATE_LIMIT_SUBMIT": "2/minute",
            "MAX_STREAMS_PER_USER": "1",
        },
    ).start()
    yield server
    server.stop()


def test_requests_count_as_the_configured_user(limited, service_redis):
    assert "no authentication" in limited.log()  # the warning for a host beyond loopback

    async def scenario():
        async with AsyncTcpClient("127.0.0.1", limited.port) as streaming:
            await streaming.write_event(SynthesizeStart().event())  # request 1, holds a stream
            await streaming.write_event(SynthesizeChunk(text="One sentence. And ").event())
            await asyncio.sleep(0.5)
            second = await exchange(limited.port, Synthesize(text="Hi.").event())  # request 2
            await streaming.write_event(SynthesizeStop().event())
            first = []
            while not SynthesizeStopped.is_type((event := await streaming.read_event()).type):
                first.append(event)
        third = await exchange(limited.port, Synthesize(text="Hi.").event())  # request 3
        return first, second, third

    first, second, third = run(scenario())
    assert AudioStop.is_type(first[-1].type)
    assert_speech(pcm_of(first), "One sentence. And")
    assert [Error.from_event(e).code for e in second] == ["too-many-streams"]
    assert [Error.from_event(e).code for e in third] == ["rate-limited"]
    # the stream's jobs are alice's (her fair share, her job list)
    assert service_redis.zcard(user_jobs_key("alice")) >= 1


def test_a_client_that_leaves_cancels_its_jobs(server, service_redis):
    """Gone after the first audio: the request's job ends cancelled, its blocks not made are
    skipped, and no more of its audio is made for nobody."""
    text = " ".join(
        f"Sentence number {i} is here to keep the workers busy for a while." for i in range(30)
    )

    async def first_audio_then_leave():
        async with AsyncTcpClient("127.0.0.1", server.port) as client:
            await client.write_event(Synthesize(text=text).event())
            while not AudioChunk.is_type((await client.read_event()).type):
                pass

    run(first_audio_then_leave())
    (job_id,) = service_redis.zrevrange(user_jobs_key("wyoming"), 0, 0)
    deadline = time.monotonic() + 30
    while service_redis.hget(job_key(job_id), "status") != "cancelled":
        assert time.monotonic() < deadline, service_redis.hgetall(job_key(job_id))
        time.sleep(0.1)
    n_blocks = int(service_redis.hget(job_key(job_id), "n_blocks"))
    statuses = [service_redis.hget(block_key(job_id, i), "status") for i in range(n_blocks)]
    assert n_blocks > 3 and statuses.count("skipped") >= n_blocks // 2, statuses


def test_the_operators_lexicons_apply(worker, service_redis, simulator, tmp_path):
    """Home Assistant names no lexicons: the operator's (LEXICON_FILES) apply to every request."""
    pls = tmp_path / "brands.pls"
    pls.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" '
        'alphabet="ipa" xml:lang="en-US">'
        "<lexeme><grapheme>HA</grapheme><alias>Home Assistant</alias></lexeme></lexicon>"
    )
    server = WyomingProcess(tmp_path / "wyoming.log", {"LEXICON_FILES": str(pls)}).start()
    try:
        voice = SynthesizeVoice(name="openai/alloy")
        events = run(exchange(server.port, Synthesize(text="HA is on.", voice=voice).event()))
    finally:
        server.stop()
    assert AudioStop.is_type(events[-1].type), events
    calls = [c for c in simulator.stats()["recent"] if c["api"] == "openai"]
    assert calls[-1]["text"] == "Home Assistant is on."
