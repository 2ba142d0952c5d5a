"""ElevenLabs' input streaming WebSocket (api/realtime/), with the raw `websockets` client
against a real uvicorn and a real worker: each message, the audio decoded and its alignment
checked against it, and each way a connection is refused or closed."""

from __future__ import annotations

import asyncio
import contextlib
import json

import numpy as np
import pytest
import websockets

from tests.api.realtime_helpers import audio_of, token_for, ws_url
from tests.audio_helpers import ffmpeg_decode
from tests.helpers import served

VOICE = "en_US-joe-medium"
SENTENCES = [
    "The harbour was quiet before dawn.",
    "Gulls circled the masts of the fishing boats.",
    "An old man mended a net on the pier.",
]

pytestmark = pytest.mark.pipeline
LEAD_IN_S = 0.05  # the 95th percentile of word onsets Piper's word timings are held to


@pytest.fixture
def rt_url(service_redis, users, worker):
    from api.main import create_app

    with served(create_app()) as url:
        yield url


@pytest.fixture
def token(rt_url):
    return token_for(rt_url)


async def converse(url, texts, headers=None, opening=None, voice=VOICE, **query) -> list[dict]:
    """Send the opening, each text, the end; every answer until the server closes."""
    messages = []
    async with websockets.connect(ws_url(url, voice, **query), additional_headers=headers) as ws:
        await ws.send(json.dumps(opening or {"text": " "}))
        for text in texts:
            await ws.send(json.dumps({"text": text, "try_trigger_generation": True}))
        await ws.send(json.dumps({"text": ""}))
        async for raw in ws:
            messages.append(json.loads(raw))
    return messages


def word_by_word(sentences: list[str]) -> list[str]:
    return [w + " " for w in " ".join(sentences).split()]


def placed_spans(messages: list[dict], rate: int, bytes_per_sample: int) -> list[tuple]:
    """(text, start s, end s) of each sentence in the stream's time: a message's alignment is
    in ms from the start of its own audio, placed after the audio of the messages before it."""
    import base64

    chars, offset = [], 0.0
    for m in messages:
        if m.get("alignment"):
            a = m["alignment"]
            times = zip(a["chars"], a["charStartTimesMs"], a["charDurationsMs"], strict=True)
            for c, s, d in times:
                chars.append((c, offset + s / 1000, offset + (s + d) / 1000))
        if m.get("audio"):
            offset += len(base64.b64decode(m["audio"])) / bytes_per_sample / rate
    spans, text = [], "".join(c for c, _, _ in chars)
    cursor = 0
    for sentence in SENTENCES:
        at = text.index(sentence, cursor)
        cursor = at + len(sentence)
        spans.append((sentence, chars[at][1], chars[cursor - 1][2]))
    return spans


def speech_edges(audio: np.ndarray, rate: int, start: float, end: float) -> tuple[float, float]:
    """Where sound begins and ends within [start, end) s (10 ms windows above -40 dBFS)."""
    window = rate // 100
    part = audio[int(start * rate) : int(end * rate)].astype(np.float64)
    n = part.size // window
    levels = np.sqrt((part[: n * window].reshape(n, window) ** 2).mean(axis=1))
    loud = np.flatnonzero(levels > 32768 * 0.01)
    return start + loud[0] / 100, start + (loud[-1] + 1) / 100


def test_pcm_words_as_an_llm_sends_them_speak_each_sentence_where_its_alignment_says(rt_url, token):
    messages = asyncio.run(
        converse(rt_url, word_by_word(SENTENCES), {"xi-api-key": token}, output_format="pcm_22050")
    )
    assert messages[-1] == {"isFinal": True}
    assert all(m.get("alignmentSource") == "synthesized" for m in messages if m.get("audio"))
    audio = np.frombuffer(audio_of(messages), dtype="<i2")
    total = audio.size / 22050
    assert 4 < total < 15, total
    spans = placed_spans(messages, 22050, 2)
    for (_, start, end), after in zip(spans, [s[1] for s in spans[1:]] + [total], strict=True):
        assert 0 <= start < end <= after + 0.001 <= total + 0.001
        # the sentence's sound lies inside its span, and fills most of it; the span is its
        # words' (Piper's own durations), and the next sentence's first word may start to sound
        # a little before its first phoneme does (word onsets: tests/providers/test_piper_words.py),
        # so the sound looked at stops that much before the next sentence's span
        first, last = speech_edges(audio, 22050, start, max(end, after - LEAD_IN_S))
        assert start - 0.01 <= first < last <= end + LEAD_IN_S, (start, end, first, last)
        assert last - first > 0.6 * (end - start)


def test_mp3_and_ulaw_decode_to_the_same_speech_as_pcm(rt_url, token):
    headers = {"Authorization": f"Bearer {token}"}
    texts = [f"{s} " for s in SENTENCES]  # as ElevenLabs asks: each text ends with a space
    pcm = asyncio.run(converse(rt_url, texts, headers, output_format="pcm_22050"))
    # the same pieces at the same rate: the cache's blocks, so the same samples
    mp3 = asyncio.run(converse(rt_url, texts, headers, output_format="mp3_22050_32"))
    ulaw = asyncio.run(converse(rt_url, texts, headers, output_format="ulaw_8000"))
    reference = np.frombuffer(audio_of(pcm), dtype="<i2").size / 22050
    decoded = ffmpeg_decode(audio_of(mp3), 22050)
    assert abs(decoded.size / 22050 - reference) < 0.15  # encoder delay and padding
    codes = np.frombuffer(audio_of(ulaw), dtype=np.uint8)
    # one byte a sample; made again at 8 kHz (Piper's durations vary a little from run to run)
    assert abs(codes.size / 8000 - reference) < 0.15 * reference
    # G.711 μ-law decoded by its definition: speech, not noise or silence
    u = ~codes & 0xFF
    magnitude = (((u & 0x0F).astype(np.int32) << 3) + 0x84) << ((u >> 4) & 7)
    samples = np.where(u & 0x80, 0x84 - magnitude, magnitude - 0x84)
    assert 500 < np.sqrt(np.mean(samples.astype(np.float64) ** 2)) < 12000
    # alignment of the same text in every format
    for messages in (mp3, ulaw):
        chars = "".join("".join(m["alignment"]["chars"]) for m in messages if m.get("alignment"))
        assert chars.replace(" ", "") == "".join(SENTENCES).replace(" ", "")


def test_the_key_in_the_first_message_and_a_flush_speak_before_the_end(rt_url, token):
    async def run():
        async with websockets.connect(ws_url(rt_url, VOICE, output_format="pcm_16000")) as ws:
            opening = {
                "text": " ",
                "xi_api_key": token,
                "voice_settings": {"speed": 1.2},
                "generation_config": {"chunk_length_schedule": [500]},
            }
            await ws.send(json.dumps(opening))
            await ws.send(json.dumps({"text": "no sentence end here ", "flush": True}))
            first = json.loads(await asyncio.wait_for(ws.recv(), 30))  # before the end
            await ws.send(json.dumps({"text": ""}))
            rest = [json.loads(raw) async for raw in ws]
            return [first, *rest]

    messages = asyncio.run(run())
    assert messages[0]["audio"] and messages[-1] == {"isFinal": True}
    assert "".join(messages[0]["alignment"]["chars"]).startswith("no s")  # its first 500 ms


def error_of(url: str, opening, headers=None, send=(), voice=VOICE, **query) -> tuple[dict, int]:
    """The error message and the close code a connection ends with."""

    async def run():
        answers = []
        url_ = ws_url(url, voice, **query)
        async with websockets.connect(url_, additional_headers=headers) as ws:
            # the server may close before reading what is sent
            with contextlib.suppress(websockets.ConnectionClosedError):
                await ws.send(opening if isinstance(opening, str | bytes) else json.dumps(opening))
                for message in send:
                    await ws.send(message)
            with contextlib.suppress(websockets.ConnectionClosedError):
                async for raw in ws:
                    answers.append(json.loads(raw))
            return answers[-1], ws.close_code

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("query", "opening", "error"),
    [
        ({"output_format": "mp3_8000_8"}, {"text": " "}, "invalid_output_format"),
        ({"inactivity_timeout": "500"}, {"text": " "}, "invalid_request"),
        ({}, "{not json", "invalid_message"),
        ({}, b"\x00\x01", "invalid_message"),
        ({}, {"text": 5}, "invalid_request"),
        ({}, {"text": " ", "generation_config": {"chunk_length_schedule": [0]}}, "invalid_request"),
        ({}, {"text": " ", "voice_settings": {"speed": 9}}, "invalid_request"),
        ({}, {"text": "x" * 70_000}, "message_too_large"),
    ],
)
def test_bad_input_gets_an_error_message_and_a_clean_close(rt_url, token, query, opening, error):
    message, code = error_of(rt_url, opening, {"xi-api-key": token}, **query)
    assert message["error"] == error and message["message"]
    assert code == message["code"] in (1008, 1009)


def test_unknown_voice_and_text_over_the_limit(rt_url, token):
    headers = {"xi-api-key": token}
    message, code = error_of(rt_url, {"text": " "}, headers, voice="no-such-voice")
    assert (message["error"], code) == ("invalid_voice", 1008)
    assert "no-such-voice" in message["message"]
    long = json.dumps({"text": "word " * 1000})  # 5000 characters, none spoken yet
    message, code = error_of(rt_url, {"text": " "}, headers, send=[long])
    assert (message["error"], code) == ("max_character_limit_exceeded", 1008)


def test_an_idle_socket_is_closed_after_its_inactivity_timeout(rt_url, token):
    message, code = error_of(rt_url, {"text": " "}, {"xi-api-key": token}, inactivity_timeout="1")
    assert (message["error"], code) == ("input_timeout_exceeded", 1008)


def test_a_socket_without_a_valid_key_is_refused(rt_url):
    message, code = error_of(rt_url, {"text": " "})  # no key anywhere
    assert (message["error"], code) == ("invalid_api_key", 1008)
    message, code = error_of(rt_url, {"text": " ", "xi_api_key": "tts_sk_nope"})
    assert (message["error"], code) == ("invalid_api_key", 1008)

    async def with_bad_header():
        async with websockets.connect(
            ws_url(rt_url, VOICE), additional_headers={"xi-api-key": "not-a-key"}
        ):
            pass

    with pytest.raises(websockets.InvalidStatus) as refused:
        asyncio.run(with_bad_header())
    assert refused.value.response.status_code == 403


def test_sockets_count_in_the_users_stream_cap(rt_url, token, monkeypatch):
    async def run():
        url = ws_url(rt_url, VOICE)
        headers = {"xi-api-key": token}
        open_ = [await websockets.connect(url, additional_headers=headers) for _ in range(4)]
        for ws in open_:
            await ws.send(json.dumps({"text": " "}))
        await asyncio.sleep(0.5)
        async with websockets.connect(url, additional_headers=headers) as fifth:
            await fifth.send(json.dumps({"text": " "}))
            answer = json.loads(await fifth.recv())
            with contextlib.suppress(websockets.ConnectionClosedError):
                await fifth.recv()
            code = fifth.close_code
        for ws in open_:
            await ws.close()
        return answer, code

    answer, code = asyncio.run(run())  # MAX_STREAMS_PER_USER is 4
    assert (answer["error"], code) == ("too_many_concurrent_requests", 1013)


def test_a_voice_of_another_provider_with_an_elevenlabs_model_and_its_own_alignment(
    rt_url, token, simulator
):
    messages = asyncio.run(
        converse(
            rt_url,
            [f"{s} " for s in SENTENCES[:2]],
            {"xi-api-key": token},
            voice="elevenlabs%2F21m00Tcm4TlvDq8ikWAM",
            output_format="pcm_24000",
            model_id="eleven_flash_v2_5",
        )
    )
    assert messages[-1] == {"isFinal": True}
    sources = {m.get("alignmentSource") for m in messages if m.get("audio")}
    assert sources <= {"aligned", None} and "aligned" in sources  # the provider's own times
    chars = "".join("".join(m["alignment"]["chars"]) for m in messages if m.get("alignment"))
    assert chars.replace(" ", "") == "".join(SENTENCES[:2]).replace(" ", "")
    assert simulator.stats()["tts_requests"] == 2  # one call per sentence


def test_a_kokoro_blend_streams_with_its_alignment_from_the_model(rt_url, token, hub_mirror_server):
    messages = asyncio.run(
        converse(
            rt_url,
            word_by_word(SENTENCES),
            {"xi-api-key": token},
            voice="kokoro%2Fjf_alpha(2)%2Bjm_kumo",
            output_format="pcm_24000",
        )
    )
    assert messages[-1] == {"isFinal": True}
    assert {m.get("alignmentSource") for m in messages if m.get("audio")} == {"aligned"}
    audio = np.frombuffer(audio_of(messages), dtype="<i2")
    total = audio.size / 24000
    spans = placed_spans(messages, 24000, 2)
    for (_, start, end), after in zip(spans, [s[1] for s in spans[1:]] + [total], strict=True):
        assert 0 <= start < end <= after + 0.001 <= total + 0.001
        first, last = speech_edges(audio, 24000, start, after)
        assert start - 0.05 <= first < last <= end + 0.05, (start, end, first, last)
