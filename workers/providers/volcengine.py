"""Volcano Engine (ByteDance's 火山引擎 speech service) through its HTTP TTS API, with httpx.

No vendor SDK: none on PyPI is kept up, and the API is one JSON request. What it is, from the
vendor's documentation of the HTTP API (volcengine.com/docs/6561/79823; its big-model page,
"大模型语音合成API", repeats the request and the "返回码说明" table of codes):

    POST {base_url}/api/v1/tts   Authorization: Bearer;{access token}   (a semicolon, no space)
    {"app": {"appid", "token", "cluster"}, "user": {"uid"},
     "audio": {"voice_type", "encoding", "rate", "speed_ratio", "volume_ratio", "pitch_ratio"},
     "request": {"reqid" (unique per call), "text", "text_type": "plain", "operation": "query",
                 "with_frontend": 1, "frontend_type": "unitTson"}}
    -> {"reqid", "code", "message", "sequence", "data": base64 audio,
        "addition": {"duration", "frontend": JSON text with each word's start and end time}}

Code 3000 is success. The documented error codes, and what the docs advise for each, decide
retry or not (RETRYABLE_CODES, REJECTED_CODES below); the HTTP status decides only for codes
the docs do not list, as the gateway in front answers auth failures with its own bodies
(`{"code": 403, "message": "... access denied"}`, seen in users' reports). The docs' list of
common messages adds one rule: "quota exceeded for types: concurrency" is the account's
concurrency limit, worth another try whatever code carries it.

Audio is asked for as raw 16-bit PCM at 24 kHz: nothing to decode. Text is limited to 1024
bytes of UTF-8 per request, so a longer block is spoken piece by piece (split at sentence ends)
and the PCM joined, all within the block's one account slot.

Voices: this API has no listing endpoint. The built-in list is the voices the docs name as
free (only BV001 and BV002 need no zero-cost order in the console) plus the two "super
natural" ones; an entry's `voices` replaces it (big-model voices, cloned S_... voices).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping

import httpx

from utils.audio.pcm import ProviderAudio
from utils.errors import ProviderError
from workers.providers.base import SynthesisRequest, TTSProvider, Voice
from workers.providers.text_pieces import split_text
from workers.providers.upstream import upstream_error
from workers.providers.volcengine_words import (
    FRONTEND_OPTIONS,
    frontend_words,
    marks_of_words,
    word_spans,
)

DEFAULT_BASE_URL = "https://openspeech.bytedance.com"
DEFAULT_CLUSTER = "volcano_tts"
DEFAULT_VOICE = "BV001_streaming"
PATH = "/api/v1/tts"
PCM_RATE = 24000
MAX_TEXT_BYTES = 1024  # per request, UTF-8

SUCCESS = 3000
# What the docs advise retrying: limits, a busy or failing backend, timeouts. 3006 ("service
# interrupted") is documented as a reqid sent again after its request ended: every attempt
# here sends a fresh reqid, so another try is exactly the cure.
RETRYABLE_CODES = {
    3003: "concurrency limit exceeded",
    3005: "backend busy",
    3006: "service interrupted",
    3030: "processing timed out",
    3031: "processing error",
    3032: "timed out waiting for audio",
    3040: "backend connection error",
}
# What the docs say to fix in the request: no retry can help.
REJECTED_CODES = {
    3001: "invalid request",
    3010: "text too long",
    3011: "invalid text",
    3050: "voice_type not found",
}
CONCURRENCY_MESSAGE = "types: concurrency"

# (voice_type, the docs' name, language, what it is for)
BUILTIN_VOICES = [
    ("BV001_streaming", "通用女声", "zh_CN", "general female; 12 emotions"),
    ("BV002_streaming", "通用男声", "zh_CN", "general male"),
    ("BV700_streaming", "灿灿", "zh_CN", "female; 22 emotions/styles; en, ja, pt, es, id too"),
    ("BV406_streaming", "超自然音色-梓梓", "zh_CN", "natural female"),
    ("BV407_streaming", "超自然音色-燃燃", "zh_CN", "natural male"),
    ("BV701_streaming", "擎苍", "zh_CN", "narration male; 10 emotions"),
    ("BV102_streaming", "儒雅青年", "zh_CN", "audiobook male"),
    ("BV113_streaming", "甜宠少御", "zh_CN", "audiobook female"),
    ("BV115_streaming", "古风少御", "zh_CN", "audiobook female"),
    ("BV119_streaming", "通用赘婿", "zh_CN", "audiobook male"),
    ("BV007_streaming", "亲切女声", "zh_CN", "assistant female"),
    ("BV056_streaming", "阳光男声", "zh_CN", "voice-over male"),
    ("BV005_streaming", "活泼女声", "zh_CN", "voice-over female"),
    ("BV051_streaming", "奶气萌娃", "zh_CN", "child"),
    ("BV034_streaming", "知性姐姐-双语", "zh_CN", "education female; Chinese and English"),
    ("BV033_streaming", "温柔小哥", "zh_CN", "education male"),
    ("BV021_streaming", "东北老铁", "zh_CN", "north-eastern dialect male"),
    ("BV019_streaming", "重庆小伙", "zh_CN", "Chongqing dialect male"),
    ("BV213_streaming", "广西表哥", "zh_CN", "Guangxi Mandarin male"),
    ("BV503_streaming", "活力女声-Ariana", "en_US", "American English female"),
    ("BV504_streaming", "活力男声-Jackson", "en_US", "American English male"),
    ("BV522_streaming", "气质女声", "ja_JP", "Japanese female"),
    ("BV524_streaming", "日语男声", "ja_JP", "Japanese male"),
]
_KNOWN = {voice_type: details for voice_type, *details in BUILTIN_VOICES}


class VolcengineProvider(TTSProvider):
    def __init__(self, name, config):
        super().__init__(name, config)
        self._secret = config.api_key.get_secret_value() if config.api_key else None
        self.cluster = config.cluster or DEFAULT_CLUSTER
        # One client per process: its connection pool is reused by every block (the service
        # keeps connections alive for a minute).
        options = {"base_url": config.base_url or DEFAULT_BASE_URL, "timeout": config.timeout_s}
        self.client = self.upstream.http_client(**options) or httpx.Client(**options)

    @property
    def default_voice(self) -> str:
        return self.config.default_voice or (self.config.voices or [DEFAULT_VOICE])[0]

    def voices(self) -> list[Voice]:
        ids = self.config.voices or [voice_type for voice_type, *_ in BUILTIN_VOICES]
        return [_voice(voice_type) for voice_type in ids]

    def audio_identity(self) -> list[str]:
        # Cloned voices belong to one application, and a cluster is its own engine.
        return [*super().audio_identity(), self.cluster, self.config.app_id or ""]

    def synthesize(self, request: SynthesisRequest) -> ProviderAudio:
        audio, words, cursor = [], [], 0
        for piece in split_text(request.text, MAX_TEXT_BYTES):
            offset = request.text.find(piece, cursor)
            pcm, said = self._speak(piece, request.voice, request.speed)
            if offset >= 0:  # pieces are the text's own, stripped: always found
                at = sum(len(a) for a in audio) // 2
                words += word_spans(piece, offset, said, PCM_RATE, at)
                cursor = offset + len(piece)
            audio.append(pcm)
        language = (_voice(request.voice).language or "zh").split("_")[0]
        marks = marks_of_words(request.text, words, language)
        return ProviderAudio(b"".join(audio), "pcm_s16le", PCM_RATE, marks=marks)

    def _speak(self, text: str, voice: str, speed: float) -> tuple[bytes, list]:
        """The piece's PCM, and its words' times as the engine reports them."""
        body = {
            "app": {"appid": self.config.app_id, "token": self._secret, "cluster": self.cluster},
            "user": {"uid": self.name},
            "audio": {
                "voice_type": voice,
                "encoding": "pcm",
                "rate": PCM_RATE,
                "speed_ratio": speed,
                "volume_ratio": 1.0,
                "pitch_ratio": 1.0,
            },
            "request": {
                "reqid": str(uuid.uuid4()),  # unique per attempt: a reused one is refused
                "text": text,
                "text_type": "plain",
                "operation": "query",  # the HTTP API's only one (submit streams, over ws)
                **FRONTEND_OPTIONS,  # each word's time in the audio (volcengine_words.py)
            },
        }
        headers = {"Authorization": f"Bearer;{self._secret}"}
        try:
            response = self.client.post(PATH, json=body, headers=headers)
        except httpx.TimeoutException:
            raise upstream_error(self.name, None, "request timed out", self._secret) from None
        except httpx.TransportError as exc:
            raise self.upstream.refused(self.name, exc) or upstream_error(
                self.name, None, f"connection failed ({type(exc).__name__})", self._secret
            ) from None
        answer = _json_or_none(response)
        if response.status_code == 200 and _code(answer) == SUCCESS and answer.get("data"):
            try:
                return base64.b64decode(answer["data"], validate=True), frontend_words(answer)
            except (binascii.Error, ValueError):
                raise upstream_error(
                    self.name, None, "audio data is not base64", self._secret, retryable=True
                ) from None
        raise self.upstream.screened(
            volcengine_error(
                self.name,
                response.status_code,
                answer,
                response.text,
                self._secret,
                response.headers,
            )
        )


def volcengine_error(
    provider: str,
    status: int,
    answer: object,
    text: str,
    secret: str | None,
    headers: Mapping[str, str] | None = None,
) -> ProviderError:
    """Retry or not by the documented code; by the HTTP status where the code is not one.

    The message is the service's own, led by its code ("code 3050: ..."); an error answered
    with HTTP 200 carries no status, so it does not read as "HTTP 200".
    """
    code = _code(answer)
    message = str(answer.get("message") or "") if isinstance(answer, Mapping) else text
    meaning = RETRYABLE_CODES.get(code) or REJECTED_CODES.get(code)
    message = message or meaning or ""
    if CONCURRENCY_MESSAGE in message or code in RETRYABLE_CODES:
        retryable = True
    elif code in REJECTED_CODES:
        retryable = False
    elif code == SUCCESS:
        retryable, message = True, "answered success without audio"
    elif status == 200 and code is None:
        retryable = True  # not the API's JSON at all: a proxy's or a cut-off answer
        message = f"answer without a code: {message}"
    elif status == 200:
        retryable = False  # an error code the docs do not list: nothing says a retry helps
    else:
        retryable = None  # the HTTP status decides
    if code is not None and code not in (status, SUCCESS):
        message = f"code {code}: {message}"
    return upstream_error(
        provider, None if status == 200 else status, message, secret, headers, retryable
    )


def _voice(voice_type: str) -> Voice:
    name, language, about = _KNOWN.get(voice_type, (voice_type, None, None))
    return Voice(id=voice_type, name=name, language=language, description=about)


def _code(answer: object) -> int | None:
    if not isinstance(answer, Mapping):
        return None
    try:
        return int(answer.get("code"))
    except (TypeError, ValueError):
        return None


def _json_or_none(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return None
