"""The simulator's HTTP API: the upstream endpoints the SDKs call (Volcano Engine's in
simulator/volcengine.py, Cloudinary's in simulator/cloudinary.py), and `/_sim/*` controls."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from dataclasses import fields

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from simulator.audio import character_alignment, render, tone
from simulator.cloudinary import add_cloudinary_routes
from simulator.state import Fault, Knobs, SimState
from simulator.volcengine import add_volcengine_routes

ELEVENLABS_VOICES = [
    {
        "voice_id": "21m00Tcm4TlvDq8ikWAM",
        "name": "Rachel",
        "category": "premade",
        "labels": {"accent": "american", "gender": "female"},
        "description": "calm",
    },
    {
        "voice_id": "AZnzlk1XvdvUeBnXmlld",
        "name": "Domi",
        "category": "premade",
        "labels": {"accent": "american", "gender": "female"},
        "description": "strong",
    },
    {
        "voice_id": "ErXwobaYiN019PkySvjV",
        "name": "Antoni",
        "category": "premade",
        "labels": {"accent": "american", "gender": "male"},
        "description": "well-rounded",
    },
]
ELEVENLABS_FORMATS = {"mp3": "mp3", "pcm": "pcm", "wav": "wav"}
MEDIA_TYPES = {"mp3": "audio/mpeg", "pcm": "application/octet-stream", "wav": "audio/wav"}


def _error(
    status: int, message: str, retry_after_s: float | None = None, code: int | None = None
) -> JSONResponse:
    headers = {"Retry-After": f"{retry_after_s:g}"} if retry_after_s is not None else None
    body = {
        "detail": {"status": "simulated_error", "message": message},
        "error": {"message": message, "type": "simulated_error", "code": code or status},
    }
    return JSONResponse(status_code=status, content=body, headers=headers)


def create_simulator() -> FastAPI:
    app = FastAPI(title="upstream simulator")
    state = SimState()
    app.state.sim = state

    async def speak(
        request: Request, key: str | None, record: dict, make_audio, error=_error
    ) -> Response:
        """Every TTS endpoint's path: the key, a fault, the account limit, the latency.
        `error` renders a failure in the vendor's own shape."""
        knobs = state.knobs
        if not key or (knobs.api_key is not None and key != knobs.api_key):
            return error(401, "invalid API key")
        fault = state.take_fault(request.url.path)
        if not state.enter(record):
            return error(429, "too many concurrent requests", retry_after_s=0.1)
        started = time.monotonic()
        try:
            if fault is None:
                # Made off the event loop and inside the latency, as a real service's synthesis
                # is part of its response time: twenty requests in flight must not queue behind
                # one another's encoding here.
                content, media_type = await asyncio.to_thread(make_audio)
            remaining_s = knobs.latency_ms / 1000 - (time.monotonic() - started)
            if remaining_s > 0:
                await asyncio.sleep(remaining_s)
            if fault is not None:
                return error(fault.status, fault.message, fault.retry_after_s, fault.code)
            return Response(content, media_type=media_type)
        finally:
            state.leave()

    async def elevenlabs(voice_id: str, request: Request, timestamps: bool) -> Response:
        body = await request.json()
        output_format = request.query_params.get("output_format", "mp3_44100_128")
        kind, rate, *kbps = output_format.split("_")
        record = {
            "api": "elevenlabs",
            "voice": voice_id,
            "text": body.get("text"),
            "previous_text": body.get("previous_text"),
            "next_text": body.get("next_text"),
            "model_id": body.get("model_id"),
            "output_format": output_format,
            "timestamps": timestamps,
            "t": time.monotonic(),
        }

        def make_audio():
            samples = tone(body["text"], voice_id, int(rate))
            encoding = ELEVENLABS_FORMATS[kind]
            audio = render(samples, encoding, int(rate), int(kbps[0]) if kbps else 128)
            if not timestamps:
                return audio, MEDIA_TYPES[kind]
            alignment = character_alignment(body["text"], samples.size / int(rate))
            answer = {
                "audio_base64": base64.b64encode(audio).decode(),
                "alignment": alignment,
                "normalized_alignment": alignment,
            }
            return json.dumps(answer).encode(), "application/json"

        return await speak(request, request.headers.get("xi-api-key"), record, make_audio)

    @app.post("/v1/text-to-speech/{voice_id}")
    async def elevenlabs_tts(voice_id: str, request: Request) -> Response:
        return await elevenlabs(voice_id, request, timestamps=False)

    @app.post("/v1/text-to-speech/{voice_id}/with-timestamps")
    async def elevenlabs_tts_with_timestamps(voice_id: str, request: Request) -> Response:
        """Audio as base64 in JSON, with a start and end time for every character."""
        return await elevenlabs(voice_id, request, timestamps=True)

    @app.get("/v1/voices")
    async def elevenlabs_voices(request: Request) -> Response:
        if not request.headers.get("xi-api-key"):
            return _error(401, "invalid API key")
        state.voice_listings += 1
        await asyncio.sleep(state.knobs.voices_latency_ms / 1000)
        if fault := state.take_fault(request.url.path, named_only=True):
            return _error(fault.status, fault.message, fault.retry_after_s)
        return JSONResponse({"voices": ELEVENLABS_VOICES})

    @app.post("/v1/audio/speech")
    async def openai_speech(request: Request) -> Response:
        body = await request.json()
        auth = request.headers.get("authorization", "")
        key = auth.removeprefix("Bearer ").strip() or None
        response_format = body.get("response_format", "mp3")
        record = {
            "api": "openai",
            # which account called, without keeping its key
            "key_sha256": hashlib.sha256((key or "").encode()).hexdigest()[:12],
            "voice": body.get("voice"),
            "text": body.get("input"),
            "model": body.get("model"),
            "instructions": body.get("instructions"),
            "response_format": response_format,
            "t": time.monotonic(),
        }

        def make_audio():
            samples = tone(body["input"], body["voice"], 24000, float(body.get("speed") or 1.0))
            encoding = response_format if response_format in MEDIA_TYPES else "mp3"
            return render(samples, encoding, 24000, 64), MEDIA_TYPES[encoding]

        return await speak(request, key, record, make_audio)

    add_cloudinary_routes(app, state, _error)
    add_volcengine_routes(app, state, speak)

    @app.post("/_sim/reset")
    async def reset() -> dict:
        fresh = SimState()
        for item in fields(fresh):
            if item.name != "lock":
                setattr(state, item.name, getattr(fresh, item.name))
        return {"ok": True}

    @app.post("/_sim/knobs")
    async def set_knobs(knobs: dict) -> dict:
        state.knobs = Knobs(**{**vars(state.knobs), **knobs})
        return vars(state.knobs)

    @app.post("/_sim/faults")
    async def add_fault(fault: dict) -> dict:
        state.faults.append(Fault(**fault))
        return {"ok": True}

    @app.get("/_sim/stats")
    async def stats() -> dict:
        return state.stats()

    return app
