"""ElevenLabs' input streaming WebSocket (api/realtime/), with the raw `websockets` client
against a real uvicorn and a real worker: each message, each error, the audio decoded and its
alignment checked against it."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
import websockets

from tests.api.realtime_helpers import audio_of, token_for, ws_url
from tests.helpers import served

VOICE = "en_US-joe-medium"
SENTENCES = [
    "The harbour was quiet before dawn.",
    "Gulls circled the masts of the fishing boats.",
    "An old man mended a net on the pier.",
]


@pytest.fixture
def rt_url(service_redis, users, worker):
    from api.main import create_app

    with served(create_app()) as url:
        yield url


@pytest.fixture
def token(rt_url):
    return token_for(rt_url)


async def converse(url: str, token: str, texts: list[str], **query) -> list[dict]:
    """Send the opening, each text, the end; every answer until the server closes."""
    messages = []
    async with websockets.connect(
        ws_url(url, VOICE, **query), additional_headers={"xi-api-key": token}
    ) as ws:
        await ws.send(json.dumps({"text": " "}))
        for text in texts:
            await ws.send(json.dumps({"text": text}))
        await ws.send(json.dumps({"text": ""}))
        async for raw in ws:
            messages.append(json.loads(raw))
    return messages


def test_pcm_stream_speaks_each_sentence_with_alignment(rt_url, token):
    words = [w + " " for w in " ".join(SENTENCES).split()]
    messages = asyncio.run(converse(rt_url, token, words, output_format="pcm_22050"))
    assert messages[-1] == {"isFinal": True}
    audio = np.frombuffer(audio_of(messages), dtype="<i2")
    seconds = audio.size / 22050
    assert 4 < seconds < 15, seconds
    chars = "".join("".join(m["alignment"]["chars"]) for m in messages if m.get("alignment"))
    assert chars.replace(" ", "") == "".join(SENTENCES).replace(" ", "")
