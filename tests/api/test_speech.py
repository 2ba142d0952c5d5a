"""The OpenAI-compatible speech endpoint, through the official openai SDK, sync and async,
against a real uvicorn and a real worker; every format decoded and measured."""

from __future__ import annotations

import asyncio
import base64
import io
import json

import av
import httpx
import numpy as np
import openai
import pytest

from tests.helpers import served
from utils.clock import epoch_of
from utils.names import block_key

RATE = 24000
SENTENCES = [
    "The harbour was quiet before dawn.",
    "Gulls circled the masts of the fishing boats, calling to one another.",
    "An old man mended a net on the pier, his fingers quick and sure.",
    "Nobody spoke, and the water lapped softly against the stones.",
    "Far out, a light blinked twice and then went dark.",
    "He set the net down and stood to watch the horizon.",
]
TEXT = " ".join(SENTENCES)


@pytest.fixture
def speech_url(service_redis, users, worker):
    from api.main import create_app
    from config import Settings

    # small pieces, so a short text is made in several
    with served(create_app(Settings(SPEECH_PIECE_CHARS=80))) as url:
        yield url


def token_for(url: str, name: str = "alice") -> str:
    response = httpx.post(
        f"{url}/token", data={"username": name, "password": f"{name}-password"}, timeout=10
    )
    return response.json()["access_token"]


@pytest.fixture
def sdk(speech_url):
    return openai.OpenAI(api_key=token_for(speech_url), base_url=f"{speech_url}/v1", max_retries=0)


def decode(data: bytes, response_format: str) -> tuple[int, np.ndarray]:
    """(the stream's sample rate, its samples as mono int16), decoded with FFmpeg (PyAV)."""
    if response_format == "pcm":
        return RATE, np.frombuffer(data, dtype="<i2")
    chunks = []
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        for frame in container.decode(stream):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    return rate, np.concatenate(chunks)


def test_every_format_through_the_sdk_decodes_to_the_same_speech(sdk):
    made = {}
    for response_format in ("pcm", "wav", "flac", "opus", "aac", "mp3"):
        response = sdk.audio.speech.create(
            model="tts-1", voice="alloy", input=TEXT, response_format=response_format
        )
        made[response_format] = decode(response.content, response_format)
    pcm_rate, pcm = made["pcm"]
    seconds = pcm.size / RATE
    assert 15 < seconds < 40, seconds  # six sentences of speech
    # lossless formats: the very samples of the raw PCM (the blocks came from the cache)
    for lossless in ("wav", "flac"):
        rate, samples = made[lossless]
        assert rate == RATE
        assert np.array_equal(samples, pcm), lossless
    # Opus decodes at 48 kHz by definition; AAC at 24 kHz. Both keep the length within a frame
    # or two (their priming is trimmed by the container: Ogg pre-skip, ADTS has none trimmed).
    for lossy, expected_rate, slack_s in (("opus", 48000, 0.03), ("aac", RATE, 0.1)):
        rate, samples = made[lossy]
        assert rate == expected_rate, lossy
        assert abs(samples.size / rate - seconds) < slack_s, (lossy, samples.size / rate, seconds)
    # MP3 blocks are made apart (their own job format), by a voice whose timing varies a little
    rate, samples = made["mp3"]
    assert rate == RATE
    assert abs(samples.size / rate - seconds) < 0.15 * seconds


def test_audio_streams_from_the_first_sentence(sdk, speech_url):
    text = " ".join(SENTENCES * 3)  # 18 sentences: several pieces still to make at first byte
    with sdk.audio.speech.with_streaming_response.create(
        model="tts-1", voice="nova", input=text, response_format="wav"
    ) as response:
        chunks = response.iter_bytes()
        first = next(chunks)
        status = httpx.get(
            f"{speech_url}/status/{response.headers['x-job-id']}",
            headers={"Authorization": f"Bearer {token_for(speech_url)}"},
            timeout=10,
        ).json()
        rest = b"".join(chunks)
    done = [b["status"] == "completed" for b in status["blocks"]]
    assert len(done) >= 5 and not all(done), done  # audio flowed before the last piece existed
    data = first + rest
    assert data.count(b"RIFF") == 1 and data[:4] == b"RIFF"  # one header, one file
    rate, samples = decode(data, "wav")
    assert rate == RATE and samples.size / RATE > 40


def test_the_first_piece_is_made_alone_then_the_rest_at_once(sdk, service_redis):
    # words of their own, so no piece comes from the cache and each is really made
    text = " ".join(f"{s[:-1]}, on day {n} of the trip." for n, s in enumerate(SENTENCES * 2))
    with sdk.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=text, response_format="pcm"
    ) as response:
        job_id = response.headers["x-job-id"]
        data = response.read()
    assert data.count(b"\0\0") < len(data) // 4  # speech, not silence
    blocks = [service_redis.hgetall(block_key(job_id, i)) for i in range(12)]
    blocks = [b for b in blocks if b]
    assert len(blocks) >= 4 and all(b["status"] == "completed" for b in blocks)
    lead_done = epoch_of(blocks[0]["finished_at"])
    starts = sorted(epoch_of(b["started_at"]) for b in blocks[1:])
    # the two worker processes held nothing else while the first piece was made...
    assert starts[0] >= lead_done, (blocks[0], starts)
    # ...and took the next two at once after it (one dispatch, not one piece after another)
    assert starts[1] - lead_done < 1.0, (lead_done, starts)


def test_a_cloud_first_piece_is_not_held_alone(sdk, simulator, service_redis):
    simulator.knobs(latency_ms=400)
    try:
        with sdk.audio.speech.with_streaming_response.create(
            model="openai", voice="coral", input=TEXT, response_format="pcm"
        ) as response:
            job_id = response.headers["x-job-id"]
            response.read()
    finally:
        simulator.reset()
    starts = sorted(
        epoch_of(service_redis.hget(block_key(job_id, i), "started_at")) for i in range(2)
    )
    # both calls were in flight together: the network, not the cores, is what they wait on
    assert starts[1] - starts[0] < 0.4, starts


def test_async_sdk_streams_and_sse_events_carry_the_audio(speech_url):
    async def scenario():
        client = openai.AsyncOpenAI(
            api_key=token_for(speech_url), base_url=f"{speech_url}/v1", max_retries=0
        )
        async with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input=TEXT, response_format="opus"
        ) as response:
            assert response.headers["content-type"] == "audio/ogg"
            opus = b"".join([chunk async for chunk in response.iter_bytes()])
        sse = await client.audio.speech.create(
            model="piper",
            voice="en_US-joe-medium",
            input=TEXT,
            response_format="pcm",
            stream_format="sse",
        )
        return opus, sse

    opus, sse = asyncio.run(scenario())
    rate, samples = decode(opus, "opus")
    assert rate == 48000 and 15 < samples.size / rate < 40
    events = [json.loads(line[6:]) for line in sse.text.splitlines() if line.startswith("data: ")]
    assert [e["type"] for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1)
    assert events[-1]["type"] == "speech.audio.done"
    assert events[-1]["usage"]["input_tokens"] > 0
    pcm = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert abs(len(pcm) / 2 / RATE - samples.size / rate) < 0.05  # the same speech (cached)


@pytest.mark.parametrize(
    ("change", "param", "words"),
    [
        ({"voice": "nobody"}, "voice", "en_US-joe-medium"),
        ({"model": "tts-9"}, "model", "tts-1"),
        ({"response_format": "ogg"}, "response_format", "opus"),
        ({"speed": 4.5}, "speed", "4"),
        ({"input": "x" * 4097}, "input", "4096"),
        ({"input": "?!"}, "input", "letter"),
    ],
)
def test_bad_fields_get_openai_errors_naming_them(sdk, change, param, words):
    request = {"model": "tts-1", "voice": "alloy", "input": "Hello.", **change}
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.audio.speech.create(**request)
    error = raised.value.body
    assert raised.value.status_code == 400
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param and words in error["message"]


def test_a_bad_key_is_an_authentication_error_and_lists_need_one(speech_url):
    bad = openai.OpenAI(api_key="not-a-key", base_url=f"{speech_url}/v1", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as raised:
        bad.audio.speech.create(model="tts-1", voice="alloy", input="Hello.")
    assert raised.value.body["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


def test_models_and_voices_are_listed(sdk, speech_url):
    models = [m.id for m in sdk.models.list()]
    assert {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "piper", "openai"} <= set(models)
    voices = httpx.get(
        f"{speech_url}/v1/audio/voices",
        headers={"Authorization": f"Bearer {token_for(speech_url)}"},
        timeout=10,
    ).json()["voices"]
    by_id = {v["id"]: v for v in voices}
    assert by_id["en_US-joe-medium"]["provider"] == "piper"
    assert by_id["alloy"]["maps_to"] == "en_US-joe-medium"  # OpenAI's names work offline


def test_a_cloud_model_gets_the_model_and_instructions(sdk, simulator):
    response = sdk.audio.speech.create(
        model="openai/tts-1-hd",
        voice="coral",
        input="Good evening. The news at nine.",
        instructions="Speak like a calm newsreader.",
        response_format="pcm",
    )
    calls = [c for c in simulator.stats()["recent"] if c["api"] == "openai"]
    assert {c["model"] for c in calls} == {"tts-1-hd"}
    assert {c["instructions"] for c in calls} == {"Speak like a calm newsreader."}
    assert {c["voice"] for c in calls} == {"coral"}
    assert sorted(c["text"] for c in calls) == ["Good evening.", "The news at nine."]
    assert len(response.content) / 2 / RATE > 0.5


def test_an_api_key_works_with_the_sdk_until_revoked(speech_url):
    headers = {"Authorization": f"Bearer {token_for(speech_url)}"}
    created = httpx.post(f"{speech_url}/keys", json={"name": "sdk"}, headers=headers, timeout=10)
    assert created.status_code == 201
    key = created.json()
    client = openai.OpenAI(api_key=key["key"], base_url=f"{speech_url}/v1", max_retries=0)
    audio = client.audio.speech.create(
        model="tts-1", voice="alloy", input="A key of my own.", response_format="pcm"
    )
    assert len(audio.content) / 2 / RATE > 0.3
    revoked = httpx.delete(f"{speech_url}/keys/{key['id']}", headers=headers, timeout=10)
    assert revoked.status_code == 204
    with pytest.raises(openai.AuthenticationError):
        client.audio.speech.create(model="tts-1", voice="alloy", input="Not any more.")


def test_without_workers_a_request_ends_with_504_and_gives_its_stream_back(redis_server):
    import redis as redis_lib

    from api.main import create_app
    from config import Settings
    from utils.auth.users import UserStore

    url = f"redis://127.0.0.1:{redis_server.port}/5"  # no worker consumes here
    redis_lib.Redis.from_url(url).flushdb()
    app = create_app(
        Settings(REDIS_URL=url, SPEECH_FIRST_PIECE_TIMEOUT_S=0.5, MAX_STREAMS_PER_USER=1)
    )
    with served(app) as base:
        UserStore(app.state.redis).set_password("alice", "alice-password")
        client = openai.OpenAI(api_key=token_for(base), base_url=f"{base}/v1", max_retries=0)
        for _ in range(2):  # the second would be 429 if the first kept its stream place
            with pytest.raises(openai.APIStatusError) as raised:
                client.audio.speech.create(model="tts-1", voice="alloy", input="Anyone there?")
            assert raised.value.status_code == 504
            assert raised.value.body["type"] == "server_error"
            assert "SPEECH_FIRST_PIECE_TIMEOUT_S" in raised.value.body["message"]
