"""Volcano Engine's HTTP TTS API (POST /api/v1/tts), as its docs describe it.

Audio comes back base64 in a JSON body with code 3000; a failure is the same JSON with the
vendor's code and message. Which HTTP status carries each code is not documented: a wrong
token gets 401 and an application not granted the service 403 (both with code 3001, as users
report them); other refused requests get 400, and a fault's status and code are the test's to
choose, HTTP 200 included. Requests share the other vendors' path through the simulator
(latency, requests in flight, the account limit, injected faults), so account-limit and fault
tests work for this vendor as for the others.
"""

from __future__ import annotations

import base64
import json
import re
import time

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from simulator.audio import render, tone

CLUSTERS = {"volcano_tts", "volcano_mega", "volcano_icl"}
ENCODINGS = {"pcm", "wav", "mp3"}  # ogg_opus is documented too; not rendered here
RATES = {8000, 16000, 24000}
MAX_TEXT_BYTES = 1024
OVER_LIMIT = 3003  # what the account's concurrency limit answers
BAD_TOKEN = "authenticate request: load grant: requested grant not found"


def add_volcengine_routes(app: FastAPI, state, speak) -> None:
    @app.post("/api/v1/tts")
    async def volcengine_tts(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        application, audio = body.get("app") or {}, body.get("audio") or {}
        asked = body.get("request") or {}
        reqid = str(asked.get("reqid") or "")

        def answer(
            status: int, message: str, retry_after_s: float | None = None, code: int | None = None
        ) -> JSONResponse:
            if code is None:  # the gateway's own answers carry the HTTP status as their code
                code = OVER_LIMIT if status == 429 else status
            headers = {"Retry-After": f"{retry_after_s:g}"} if retry_after_s is not None else None
            content = {"reqid": reqid, "code": code, "message": message, "sequence": 0}
            return JSONResponse(content, status_code=status, headers=headers)

        # "Bearer;{token}": a semicolon, which the docs stress; a space after it is forgiven.
        scheme, _, token = request.headers.get("authorization", "").partition(";")
        token = token.strip() if scheme.strip() == "Bearer" else ""
        if not token or (state.knobs.api_key is not None and token != state.knobs.api_key):
            return answer(401, BAD_TOKEN, code=3001)
        if problem := _problem(state, application, audio, asked, reqid):
            status, code, message = problem
            return answer(status, message, code=code)
        state.volc_reqids.add(reqid)

        text, voice = asked["text"], audio["voice_type"]
        encoding = audio.get("encoding") or "pcm"
        rate = int(audio.get("rate") or 24000)
        speed = float(audio.get("speed_ratio") or 1.0)
        record = {
            "api": "volcengine",
            "voice": voice,
            "text": text,
            "appid": application.get("appid"),
            "cluster": application.get("cluster"),
            "uid": (body.get("user") or {}).get("uid"),
            "encoding": encoding,
            "rate": rate,
            "speed_ratio": speed,
            "reqid": reqid,
            "text_type": asked.get("text_type"),
            "operation": asked.get("operation"),
            "with_frontend": asked.get("with_frontend"),
            "t": time.monotonic(),
        }

        def make_audio():
            samples = tone(text, voice, rate, speed)
            content = {
                "reqid": reqid,
                "code": 3000,
                "operation": "query",
                "message": "Success",
                "sequence": -1,
                "data": base64.b64encode(render(samples, encoding, rate, 64)).decode(),
                "addition": {"duration": str(round(samples.size * 1000 / rate))},
            }
            if asked.get("with_frontend") == 1 and asked.get("frontend_type") == "unitTson":
                seconds = samples.size / rate
                content["addition"]["frontend"] = json.dumps(frontend(text, seconds))
            return json.dumps(content).encode(), "application/json"

        return await speak(request, token, record, make_audio, answer)


def frontend(text: str, seconds: float) -> dict:
    """The engine's `unitTson` front end: each word (a run of letters or digits, or one
    Chinese character) with its time, every character of the text an equal share of the
    audio, punctuation left out as the engine leaves it out."""
    step = seconds / max(1, len(text))
    words = [
        {
            "word": match.group(),
            "start_time": round(match.start() * step, 3),
            "end_time": round(match.end() * step, 3),
        }
        for match in _WORD.finditer(text)
    ]
    return {"words": words, "phonemes": []}


_WORD = re.compile(r"[\u3400-\u9fff]|[^\W_\u3400-\u9fff]+")


def _problem(state, application: dict, audio: dict, asked: dict, reqid: str):
    """(HTTP status, code, message) for a request the service would refuse, else None."""
    if not application.get("appid"):
        return 400, 3001, "missing app.appid"
    if state.knobs.app_id is not None and application["appid"] != state.knobs.app_id:
        return 403, 3001, "[resource_id=volc.tts.default] requested resource not granted"
    if application.get("cluster") not in CLUSTERS:
        return 400, 3001, "Fail to feed text, reason Init Engine Instance failed"
    if asked.get("operation") != "query":
        return 400, 3001, "invalid operation: the HTTP API answers only query"
    if not reqid:
        return 400, 3001, "missing request.reqid"
    if reqid in state.volc_reqids:
        return 400, 3006, "reqid already used"
    if not audio.get("voice_type"):
        return 400, 3050, "voice_type not found"
    if (audio.get("encoding") or "pcm") not in ENCODINGS:
        return 400, 3001, f"unsupported encoding {audio.get('encoding')!r}"
    if int(audio.get("rate") or 24000) not in RATES:
        return 400, 3001, f"unsupported rate {audio.get('rate')!r}"
    text = str(asked.get("text") or "")
    if not text.strip():
        return 400, 3011, "illegal input text!"
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        return 400, 3010, f"text longer than {MAX_TEXT_BYTES} bytes"
    return None
