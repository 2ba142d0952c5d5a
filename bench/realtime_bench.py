"""Text streamed in over ElevenLabs' input streaming WebSocket (api/realtime/), against the
process layout `make run` starts: ten sentences sent word by word 20 ms apart, as a language
model sends them; an interruption (close_context) and the provider calls it leaves; the API's
memory with 200 idle sockets open.

Targets: the first audio within the time Piper takes for the first sentence alone plus 100 ms
of its last word being sent; played at real time from its first byte, the audio's total wait
(the time it ran dry) reported; no provider call started for a context after its close.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time

import websockets

from bench.stack import Stack
from config import ProviderConfig
from utils.clock import epoch_of
from utils.names import block_key, user_jobs_key
from workers.providers import SynthesisRequest
from workers.providers.piper import PiperProvider

SENTENCES = [
    "The lighthouse keeper climbed the spiral stairs each evening at dusk.",
    "He carried a lamp, a flask of tea and a small notebook.",
    "In the notebook he wrote the weather, the ships and the birds.",
    "For forty years the routine had not changed.",
    "The world beyond the headland had changed beyond recognition.",
    "Ships that once passed under sail now slid by with engines humming.",
    "Their crews rarely looked up at the tower.",
    "Still, he believed the light mattered.",
    "On stormy nights he would stand by the great lens and watch the beam.",
    "Sometimes a fishing boat would answer with a blink of its own.",
]
VOICE = "en_US-joe-medium"
RATE = 22050
WORD_GAP_S = 0.020
IDLE_SOCKETS = 200


def first_sentence_alone() -> float:
    """Piper in this process, the first sentence alone: the faster of one ONNX thread and
    every core (what the service's first piece may use)."""
    best = float("inf")
    for threads in (1, 0):
        provider = PiperProvider("piper", ProviderConfig(type="piper", threads=threads))
        provider.warm_up()
        request = SynthesisRequest(text=SENTENCES[0], voice=provider.default_voice)
        provider.synthesize(SynthesisRequest(text="Warming up.", voice=provider.default_voice))
        started = time.perf_counter()
        provider.synthesize(request)
        best = min(best, time.perf_counter() - started)
    return best


def _url(stack: Stack, path: str, **query) -> str:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return f"{stack.api_url.replace('http', 'ws', 1)}/v1/text-to-speech/{VOICE}/{path}?{params}"


async def _stream(stack: Stack) -> dict:
    """Ten sentences word by word; when the first audio came, and the playback's waits."""
    words = " ".join(SENTENCES).split()
    first_end = len(SENTENCES[0].split())
    arrivals: list[tuple[float, float]] = []  # (when, seconds of audio)
    headers = {"xi-api-key": stack.token}
    async with websockets.connect(
        _url(stack, "stream-input", output_format=f"pcm_{RATE}"), additional_headers=headers
    ) as ws:

        async def send() -> float:
            await ws.send(json.dumps({"text": " "}))
            last_of_first = 0.0
            for n, word in enumerate(words, 1):
                await ws.send(json.dumps({"text": f"{word} "}))
                if n == first_end:
                    last_of_first = time.perf_counter()
                await asyncio.sleep(WORD_GAP_S)
            await ws.send(json.dumps({"text": ""}))
            return last_of_first

        sender = asyncio.create_task(send())
        async for raw in ws:
            message = json.loads(raw)
            if message.get("audio"):
                seconds = len(base64.b64decode(message["audio"])) / 2 / RATE
                arrivals.append((time.perf_counter(), seconds))
        last_of_first = await sender
    playing, waited = arrivals[0][0], 0.0
    for when, seconds in arrivals:  # played at real time from the first byte
        if when > playing:
            waited, playing = waited + when - playing, when
        playing += seconds
    audio_s = sum(s for _, s in arrivals)
    return {
        "first_audio_after_its_last_word_s": round(arrivals[0][0] - last_of_first, 3),
        "audio_s": round(audio_s, 2),
        "sending_s": round(len(words) * WORD_GAP_S, 2),
        "playback_total_wait_s": round(waited, 3),
        "messages": len(arrivals),
    }


async def _interrupt(stack: Stack) -> dict:
    """Ten sentences on context a; close it at its first audio; provider calls after that."""
    headers = {"xi-api-key": stack.token}
    url = _url(stack, "multi-stream-input", output_format=f"pcm_{RATE}")
    async with websockets.connect(url, additional_headers=headers) as ws:
        await ws.send(json.dumps({"text": " ", "context_id": "a"}))
        for sentence in SENTENCES:
            await ws.send(json.dumps({"text": f"Again: {sentence} ", "context_id": "a"}))
        while not json.loads(await ws.recv()).get("audio"):
            pass
        await ws.send(json.dumps({"context_id": "a", "close_context": True}))
        while not json.loads(await ws.recv()).get("isFinal"):
            pass
        closed_at = time.time()
        await ws.send(json.dumps({"close_socket": True}))
        async for _ in ws:
            pass
    await asyncio.sleep(2)  # anything that would start late has had its chance
    blocks = []
    for job_id in stack.client.zrange(user_jobs_key("bench"), 0, -1):
        block = stack.client.hgetall(block_key(job_id, 0))
        if block.get("text", "").startswith("Again:"):
            blocks.append(block)
    started = [b for b in blocks if b.get("started_at")]
    return {
        "sentences": len(SENTENCES),
        "submitted": len(blocks),
        "provider_calls_started": len(started),
        "provider_calls_started_after_close": sum(
            epoch_of(b["started_at"]) > closed_at for b in started
        ),
    }


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _open_idle(stack: Stack, n: int) -> list:
    headers = {"xi-api-key": stack.token}
    url = _url(stack, "stream-input", output_format="mp3_44100_128", inactivity_timeout=180)
    sockets = []
    for _ in range(n):
        ws = await websockets.connect(url, additional_headers=headers)
        await ws.send(json.dumps({"text": " "}))
        sockets.append(ws)
    await asyncio.sleep(2)
    return sockets


async def _idle_sockets(stack: Stack, api_pid: int) -> dict:
    for ws in await _open_idle(stack, 20):  # what the first ones load once (threads, modules)
        await ws.close()
    before = _rss_mb(api_pid)
    sockets = await _open_idle(stack, IDLE_SOCKETS)
    after = _rss_mb(api_pid)
    for ws in sockets:
        await ws.close()
    return {
        "sockets": IDLE_SOCKETS,
        "api_rss_before_mb": round(before, 1),
        "api_rss_with_sockets_mb": round(after, 1),
        "per_socket_kb": round((after - before) * 1024 / IDLE_SOCKETS, 1),
    }


def run() -> dict:
    alone = first_sentence_alone()
    with Stack(cache=False) as stack:
        stack.env["MAX_STREAMS_PER_USER"] = str(IDLE_SOCKETS + 10)
        stack.start_pools()
        stack.start_api()
        api_pid = stack.processes[-1].pid
        asyncio.run(_stream(stack))  # warms the pools' voices
        runs = [asyncio.run(_stream(stack)) for _ in range(3)]  # the median run, by first audio
        stream = sorted(runs, key=lambda run: run["first_audio_after_its_last_word_s"])[1]
        stream["first_audio_runs_s"] = [run["first_audio_after_its_last_word_s"] for run in runs]
        interrupt = asyncio.run(_interrupt(stack))
        idle = asyncio.run(_idle_sockets(stack, api_pid))
    target = alone + 0.100
    return {
        "first_sentence_alone_s": round(alone, 3),
        "first_audio_target_s": round(target, 3),
        "stream": stream
        | {"first_audio_within_target": stream["first_audio_after_its_last_word_s"] <= target},
        "close_context": interrupt,
        "idle_sockets": idle,
    }


def summary(r: dict) -> list[str]:
    s, c, m = r["stream"], r["close_context"], r["idle_sockets"]
    return [
        f"stream-input (Piper, ten sentences word by word {WORD_GAP_S * 1000:.0f} ms apart): "
        f"first audio {s['first_audio_after_its_last_word_s']} s after the first sentence's "
        f"last word (target {r['first_audio_target_s']} s = the sentence alone "
        f"{r['first_sentence_alone_s']} s + 0.1 s: "
        f"{'met' if s['first_audio_within_target'] else 'MISSED'}; median of "
        f"{s['first_audio_runs_s']}); played at real time, "
        f"{s['audio_s']} s of audio waited {s['playback_total_wait_s']} s in all",
        f"close_context at the first audio: {c['submitted']} of {c['sentences']} sentences "
        f"submitted, {c['provider_calls_started']} provider calls started, "
        f"{c['provider_calls_started_after_close']} after the close (target 0)",
        f"{m['sockets']} idle sockets: API RSS {m['api_rss_before_mb']} -> "
        f"{m['api_rss_with_sockets_mb']} MB ({m['per_socket_kb']} kB a socket)",
    ]
