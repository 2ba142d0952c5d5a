"""The body of POST /tts: a job of ordered blocks, and the answers that accept it.

The limits a request must keep are enforced by api/validation.py, which names every problem
at once; the published schema quotes the same limits from the app's settings (quote_limits).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from api.schemas.common import STRICT_REQUEST, RequestStr
from config import Settings

MIN_SPEED, MAX_SPEED = 0.5, 2.0
TAG_MAX_CHARS = 200  # a title, author, album or chapter title: what players show on one line


class BlockIn(BaseModel):
    model_config = STRICT_REQUEST

    text: RequestStr = Field(
        description="What to say: at least one letter or digit; or SSML (<speak>...</speak>)."
    )
    provider: RequestStr | None = Field(default=None, description="A name from GET /tts/providers.")
    voice: RequestStr | None = Field(
        default=None, description="A voice id from GET /tts/voices/{provider}."
    )
    speaker: RequestStr | int | None = Field(
        default=None,
        description="A speaker of a multi-speaker voice: a name from its `speakers` "
        "(GET /tts/voices/{provider}) or an index from 0.",
    )
    wait_after_ms: int = Field(default=0, description="Silence after this block, in ms.")
    speed: float = Field(default=1.0, description="Speaking rate.")
    id: RequestStr | None = Field(
        default=None,
        max_length=128,
        description="Your own name for the block, returned with it in status and result, and "
        "its file name in the blocks' zip.",
    )
    chapter: RequestStr | None = Field(
        default=None,
        description="This block opens a chapter of this title; it runs to the next chapter or "
        "the end. Written as chapter marks into mp3 (ID3 CHAP/CTOC), m4b and aac (MP4 "
        "chapters) and opus files, and listed by GET /result.",
    )


class LoudnessIn(BaseModel):
    model_config = STRICT_REQUEST

    integrated_lufs: float = Field(description="Each block's integrated loudness (BS.1770).")
    true_peak_db: float = Field(default=-1.0, description="True-peak ceiling, dBTP.")


class JobIn(BaseModel):
    model_config = ConfigDict(
        **STRICT_REQUEST,
        json_schema_extra={
            "examples": [
                {
                    "blocks": [
                        {"text": "Chapter one.", "wait_after_ms": 700},
                        {"text": "It was a bright cold day in April.", "wait_after_ms": 300},
                    ],
                    "output_format": "mp3_24000_64",
                }
            ]
        },
    )

    blocks: list[BlockIn] = Field(
        default_factory=list,
        description="The text in order. A block's text may be SSML (<speak>...</speak>): it "
        "becomes a block per change of voice, language, rate or volume, with its breaks as "
        "exact pauses.",
    )
    ssml: RequestStr | None = Field(
        default=None,
        description="In place of blocks: one SSML 1.1 document (<speak>...</speak>), compiled "
        "into the job's blocks.",
    )
    output_format: RequestStr | None = Field(
        default=None,
        description="mp3_{rate}_{kbps} (e.g. mp3_24000_64, the default), wav_{rate}, "
        "pcm_{rate} (raw s16le mono), flac_{rate}, opus_{rate}_{kbps} (Ogg Opus), "
        "aac_{rate}_{kbps} (AAC-LC in MP4, .m4a), m4b_{rate}_{kbps} (the same as an "
        "audiobook, .m4b, with chapters); a 422 lists the rates and bitrates allowed.",
    )
    combine: bool = Field(
        default=True,
        description="false: no combined file; the job completes once every block is stored, "
        "and its blocks download one by one or together as a zip.",
    )
    callback_url: RequestStr | None = Field(
        default=None,
        description="An http(s) URL to POST the job's outcome to (job.completed or job.failed), "
        "signed in the Standard Webhooks format with your secret (GET /webhooks/secret); "
        "retried for hours until it answers 2xx. Its host must resolve to public addresses.",
    )
    title: RequestStr | None = Field(default=None, description="The final file's title tag.")
    author: RequestStr | None = Field(default=None, description="Its author (artist) tag.")
    album: RequestStr | None = Field(default=None, description="Its album tag.")
    cover: RequestStr | None = Field(
        default=None,
        description="A cover image for the final file, PNG or JPEG, in base64 (told by its "
        "bytes; at most BOOK_MAX_COVER_BYTES): embedded in mp3 (ID3 attached picture) and in "
        "aac and m4b (MP4 covr).",
    )
    lexicons: list[RequestStr] | None = Field(
        default=None,
        description="Pronunciation lexicons of yours (POST /lexicons), by name, applied to "
        "every block (the first listed wins where two have a rule for the same words); the "
        "operator's lexicons apply after them.",
    )
    loudness: LoudnessIn | RequestStr | None = Field(
        default=None,
        description="Bring every block to one loudness: a preset (podcast: -16 LUFS, -1 dBTP; "
        "audiobook: -19 LUFS, -3 dBTP; broadcast: -23 LUFS, -1 dBTP) or "
        '{"integrated_lufs": -16, "true_peak_db": -1}.',
    )


class JobAccepted(BaseModel):
    job_id: str
    status: str
    stream_url: str = Field(
        description="The audio as it is made (?stream=true), by a signed link: no token "
        "needed, so an <audio> element can play it; valid for AUDIO_LINK_TTL seconds."
    )


class JobRetried(JobAccepted):
    retried_blocks: list[int]


class JobCancelled(BaseModel):
    job_id: str
    status: str = Field(description="cancelled; or, for a finished job purged, its status.")
    purged: bool = Field(description="Whether its audio was deleted (?purge=true).")


# POST /tts takes its body as sent, documented as JobIn: api/validation.py reads it against
# JobIn itself, so that a type error and the checks of every other field are answered together
# (FastAPI would refuse a type error before the route could check anything else).
UncheckedJob = Annotated[Any, PlainValidator(lambda body: body, json_schema_input_type=JobIn)]


def quote_limits(openapi: dict, settings: Settings) -> dict:
    """The OpenAPI document with the limits this server enforces, read from its settings."""
    schemas = openapi.get("components", {}).get("schemas", {})
    limits = [
        ("BlockIn", "text", {"maxLength": settings.MAX_BLOCK_CHARS}),
        ("BlockIn", "wait_after_ms", {"minimum": 0, "maximum": settings.MAX_PAUSE_MS}),
        ("BlockIn", "speed", {"minimum": MIN_SPEED, "maximum": MAX_SPEED}),
        ("JobIn", "blocks", {"minItems": 1, "maxItems": settings.MAX_BLOCKS}),
        ("BlockIn", "chapter", {"maxLength": TAG_MAX_CHARS}),
        *(("JobIn", name, {"maxLength": TAG_MAX_CHARS}) for name in ("title", "author", "album")),
    ]
    for model, name, bounds in limits:
        properties = schemas.get(model, {}).get("properties", {})
        if name in properties:
            properties[name].update(bounds)
            quoted = ", ".join(f"{k} {v}" for k, v in bounds.items())
            properties[name]["description"] = (
                f"{properties[name].get('description', '')} ({quoted})".strip()
            )
    return openapi
