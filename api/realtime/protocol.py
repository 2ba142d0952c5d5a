"""ElevenLabs' input-streaming protocol: what a client may send, what the service answers.

Client messages (JSON text frames): the first has `text: " "` and may carry `voice_settings`,
`generation_config.chunk_length_schedule`, `pronunciation_dictionary_locators` (lexicons by
name) and the key (`xi_api_key`, `authorization`); then
`{"text": "...", "try_trigger_generation"?, "flush"?}`; `{"text": ""}` ends the input. On
multi-stream-input each may name a `context_id`, and `close_context`, `close_socket` and
`flush` act on contexts. Answers: `{"audio", "alignment", "normalizedAlignment"}` (with
`contextId` on multi-stream-input) and `{"isFinal": true}`. An error is
`{"message", "error", "code"}` followed by a close with that code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

NORMAL, POLICY, TOO_BIG, INTERNAL, TRY_LATER = 1000, 1008, 1009, 1011, 1013

MAX_MESSAGE_CHARS = 64_000  # one frame's text; ElevenLabs' own limit is of the same order
MAX_CONTEXT_ID_CHARS = 128
INACTIVITY_DEFAULT_S, INACTIVITY_MAX_S = 20, 180  # ElevenLabs' default and maximum
SCHEDULE_DEFAULT = (120, 160, 250, 290)  # ElevenLabs' chunk_length_schedule default
SCHEDULE_MIN, SCHEDULE_MAX = 1, 5000


class ProtocolError(Exception):
    """Ends the connection with `{"message", "error", "code"}` and a close of `code`."""

    def __init__(self, message: str, error: str = "invalid_request", code: int = POLICY):
        super().__init__(message)
        self.message, self.error, self.code = message, error, code

    def payload(self) -> dict[str, Any]:
        return {"message": self.message, "error": self.error, "code": self.code}


@dataclass(frozen=True)
class AudioFormat:
    """An ElevenLabs output_format: the rate the pieces are made at, and what goes out."""

    name: str
    rate: int
    codec: str  # mp3, pcm, ulaw, alaw
    kbps: int | None = None


OUTPUT_FORMATS = {
    f.name: f
    for f in (
        AudioFormat("mp3_22050_32", 22050, "mp3", 32),
        AudioFormat("mp3_24000_48", 24000, "mp3", 48),
        *(AudioFormat(f"mp3_44100_{k}", 44100, "mp3", k) for k in (64, 96, 128, 192)),
        *(AudioFormat(f"pcm_{r}", r, "pcm") for r in (8000, 16000, 22050, 24000, 44100, 48000)),
        AudioFormat("ulaw_8000", 8000, "ulaw"),
        AudioFormat("alaw_8000", 8000, "alaw"),
    )
}
DEFAULT_FORMAT = "mp3_44100_128"


@dataclass(frozen=True)
class Query:
    model_id: str | None
    output_format: AudioFormat
    inactivity_timeout: float
    sync_alignment: bool
    auto_mode: bool


def _flag(params: dict[str, str], name: str) -> bool:
    value = params.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise ProtocolError(f"{name} must be true or false, got {value!r}")
    return value in ("true", "1")


def parse_query(params: dict[str, str]) -> Query:
    name = params.get("output_format") or DEFAULT_FORMAT
    if name not in OUTPUT_FORMATS:
        raise ProtocolError(
            f"unknown output_format {name!r}; allowed: {', '.join(OUTPUT_FORMATS)}",
            "invalid_output_format",
        )
    raw_timeout = params.get("inactivity_timeout", str(INACTIVITY_DEFAULT_S))
    try:
        timeout = float(raw_timeout)
    except ValueError:
        timeout = -1.0
    if not 1 <= timeout <= INACTIVITY_MAX_S:
        raise ProtocolError(
            f"inactivity_timeout must be a number of seconds from 1 to {INACTIVITY_MAX_S}, "
            f"got {raw_timeout!r}"
        )
    return Query(
        model_id=params.get("model_id") or None,
        output_format=OUTPUT_FORMATS[name],
        inactivity_timeout=timeout,
        sync_alignment=_flag(params, "sync_alignment"),
        auto_mode=_flag(params, "auto_mode"),
    )


@dataclass
class ClientMessage:
    text: str | None = None
    flush: bool = False
    try_trigger: bool = False
    context_id: str | None = None
    close_context: bool = False
    close_socket: bool = False
    key: str | None = None
    speed: float | None = None
    schedule: tuple[int, ...] | None = None
    lexicons: tuple[str, ...] = ()  # pronunciation_dictionary_locators: lexicons by name
    extra: dict[str, Any] = field(default_factory=dict)


def _typed(data: dict, name: str, kind: type, what: str):
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ProtocolError(f"{name} must be {what}, got {json.dumps(value)[:40]}")
    return value


def _schedule(config: Any) -> tuple[int, ...] | None:
    if config is None:
        return None
    values = config.get("chunk_length_schedule") if isinstance(config, dict) else None
    if values is None:
        return None
    ok = isinstance(values, list) and 0 < len(values) <= 16
    ok = ok and all(
        isinstance(v, int | float) and not isinstance(v, bool) and SCHEDULE_MIN <= v <= SCHEDULE_MAX
        for v in values
    )
    if not ok:
        raise ProtocolError(
            "generation_config.chunk_length_schedule must be a list of 1 to 16 numbers of "
            f"characters from {SCHEDULE_MIN} to {SCHEDULE_MAX}"
        )
    return tuple(int(v) for v in values)


def _speed(settings: Any) -> float | None:
    if settings is None:
        return None
    if not isinstance(settings, dict):
        raise ProtocolError("voice_settings must be an object")
    speed = settings.get("speed")
    if speed is None:
        return None
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not 0.5 <= speed <= 2.0:
        raise ProtocolError("voice_settings.speed must be a number from 0.5 to 2.0")
    return float(speed)


def parse_message(raw: str) -> ClientMessage:
    if len(raw) > MAX_MESSAGE_CHARS:
        raise ProtocolError(
            f"a message may hold at most {MAX_MESSAGE_CHARS} characters, got {len(raw)}",
            "message_too_large",
            TOO_BIG,
        )
    try:
        data = json.loads(raw)
    except ValueError:
        raise ProtocolError("each message must be a JSON object", "invalid_message") from None
    if not isinstance(data, dict):
        raise ProtocolError("each message must be a JSON object", "invalid_message")
    context_id = _typed(data, "context_id", str, "a string")
    if context_id is not None and not 0 < len(context_id) <= MAX_CONTEXT_ID_CHARS:
        raise ProtocolError(f"context_id must have 1 to {MAX_CONTEXT_ID_CHARS} characters")
    key = data.get("xi_api_key") or data.get("xi-api-key") or data.get("authorization")
    if key is not None and not isinstance(key, str):
        raise ProtocolError("xi_api_key must be a string")
    if isinstance(key, str) and key.lower().startswith("bearer "):
        key = key[7:].strip()
    return ClientMessage(
        text=_typed(data, "text", str, "a string"),
        flush=bool(_typed(data, "flush", bool, "true or false")),
        try_trigger=bool(_typed(data, "try_trigger_generation", bool, "true or false")),
        context_id=context_id,
        close_context=bool(_typed(data, "close_context", bool, "true or false")),
        close_socket=bool(_typed(data, "close_socket", bool, "true or false")),
        key=key,
        speed=_speed(data.get("voice_settings")),
        schedule=_schedule(data.get("generation_config") or data.get("generator_config")),
        lexicons=_lexicons(data.get("pronunciation_dictionary_locators")),
    )


MAX_LOCATORS = 3  # as ElevenLabs allows per request


def _lexicons(locators: object) -> tuple[str, ...]:
    """ElevenLabs' pronunciation dictionaries, here the user's lexicons (POST /lexicons): each
    locator's `pronunciation_dictionary_id` is a lexicon's name (`version_id` is not needed:
    the lexicon's current version applies, and is part of the audio cache's key)."""
    if locators is None:
        return ()
    what = (
        f"pronunciation_dictionary_locators must be a list of at most {MAX_LOCATORS} objects "
        "with a pronunciation_dictionary_id (a lexicon's name, POST /lexicons)"
    )
    if not isinstance(locators, list) or len(locators) > MAX_LOCATORS:
        raise ProtocolError(what)
    names = []
    for locator in locators:
        name = locator.get("pronunciation_dictionary_id") if isinstance(locator, dict) else None
        if not isinstance(name, str) or not name:
            raise ProtocolError(what)
        names.append(name)
    return tuple(dict.fromkeys(names))


def audio_message(
    audio_b64: str, alignment: dict | None, context_id: str | None, source: str | None = None
) -> dict[str, Any]:
    """One piece of audio; `alignmentSource` (ours, beside ElevenLabs' fields) says whether the
    times are synthesized, aligned by the provider, or estimated."""
    message: dict[str, Any] = {
        "audio": audio_b64,
        "alignment": alignment,
        "normalizedAlignment": alignment,
    }
    if source:
        message["alignmentSource"] = source
    if context_id is not None:
        message["contextId"] = context_id
    return message


def final_message(context_id: str | None) -> dict[str, Any]:
    return {"isFinal": True} | ({"contextId": context_id} if context_id is not None else {})
