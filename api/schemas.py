"""Request and response bodies of the HTTP API.

The limits a request must keep are enforced by api/validation.py, which names every problem
at once; the published schema quotes the same limits from the app's settings (quote_limits).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr
from pydantic_core import PydanticCustomError

from config import Settings

MIN_SPEED, MAX_SPEED = 0.5, 2.0
TAG_MAX_CHARS = 200  # a title, author, album or chapter title: what players show on one line

# Control characters (Unicode category Cc) but tab, newline and carriage return, and lone
# surrogates: JSON can escape a surrogate ("\ud800") that no UTF-8 store or provider accepts.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _storable(value: str) -> str:
    found = _UNSTORABLE.search(value)
    if found is None:
        return value
    code, at = f"U+{ord(found.group()):04X}", found.start()
    if found.group() >= "\ud800":
        raise PydanticCustomError(
            "lone_surrogate",
            "contains half of a surrogate pair ({code}) at character {at}, which is not a "
            "character: send text as valid UTF-8",
            {"code": code, "at": at},
        )
    raise PydanticCustomError(
        "control_character",
        "contains the control character {code} at character {at}; of control characters "
        "only tab, newline and carriage return are allowed",
        {"code": code, "at": at},
    )


# Every string a request carries: what the service cannot store or pass on is refused at the
# door, naming the field, rather than failing deep inside (Redis, a provider, an error page).
RequestStr = Annotated[str, AfterValidator(_storable)]

# Numbers are strict: "1.5" and true are refused, and 1.0 as a pause in ms; 2 is a speed.
_REQUEST = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class BlockIn(BaseModel):
    model_config = _REQUEST

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
    model_config = _REQUEST

    integrated_lufs: float = Field(description="Each block's integrated loudness (BS.1770).")
    true_peak_db: float = Field(default=-1.0, description="True-peak ceiling, dBTP.")


class JobIn(BaseModel):
    model_config = ConfigDict(
        **_REQUEST,
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


class LoudnessOut(BaseModel):
    integrated_lufs: float
    true_peak_db: float


class BlockLoudnessOut(BaseModel):
    """A block's loudness as made, before and after it was brought to the job's target."""

    before_lufs: float | None = Field(description="None: silence, nothing to measure.")
    after_lufs: float | None
    gain_db: float
    true_peak_db: float | None = Field(description="After, 4x oversampled, dBTP.")


class ChapterOut(BaseModel):
    title: str
    block_index: int = Field(description="The block that opens it.")
    start_ms: int
    end_ms: int


class BlockStatusOut(BaseModel):
    index: int
    id: str | None = None
    status: str
    provider: str
    voice: str
    attempts: int
    cached: bool = False
    duration_ms: int | None = None
    error: str | None = None
    chapter: str | None = None
    loudness: BlockLoudnessOut | None = None


class WebhookAttemptOut(BaseModel):
    at: str
    duration_ms: int
    status_code: int | None = Field(default=None, description="The receiver's answer.")
    error: str | None = Field(default=None, description="Why no answer came (timeout, ...).")


class WebhookStatusOut(BaseModel):
    url: str
    event: str | None = Field(default=None, description="job.completed or job.failed.")
    attempts: list[WebhookAttemptOut]
    delivered: bool
    next_attempt_at: str | None = None
    stopped: str | None = Field(default=None, description="Why no attempt follows (410, ...).")


class JobStatusOut(BaseModel):
    job_id: str
    status: str
    progress: str
    output_format: str
    blocks: list[BlockStatusOut]
    created_at: str
    updated_at: str
    error: str | None = None
    webhook: WebhookStatusOut | None = Field(
        default=None, description="The callback_url's delivery, for a job that has one."
    )
    loudness: LoudnessOut | None = None


class JobSummaryOut(BaseModel):
    job_id: str
    status: str
    progress: str = Field(description="Finished blocks of all: k/N.")
    n_blocks: int
    output_format: str
    created_at: str
    updated_at: str
    error: str | None = None


class JobListOut(BaseModel):
    jobs: list[JobSummaryOut] = Field(description="Your jobs, newest first.")
    next_cursor: str | None = Field(
        default=None, description="Pass as ?cursor= for the next page; none on the last page."
    )
    next_offset: int | None = Field(
        default=None, description="Or pass as ?offset= (when this page was read by offset)."
    )


class BlockResultOut(BaseModel):
    index: int
    id: str | None = None
    url: str
    start_ms: int | None = Field(description="Where it starts in the combined file, if any.")
    end_ms: int | None = None
    duration_ms: int
    language: str | None = Field(
        default=None, description="The voice's language code (e.g. en_US), where known."
    )
    chapter: str | None = None
    loudness: BlockLoudnessOut | None = None


class JobResultOut(BaseModel):
    job_id: str
    status: str
    output_format: str
    combined: bool = Field(description="false for a job of blocks alone (no combined file).")
    url: str | None = Field(description="The combined file; none for blocks alone.")
    signed_url: str | None = Field(
        description="The final audio by a signed link: no token needed (an <audio> src, a "
        "link to share), until signed_url_expires_at."
    )
    signed_url_expires_at: str | None
    zip_url: str = Field(description="Every block's MP3 in one zip, in order.")
    duration_ms: int
    blocks: list[BlockResultOut]
    title: str | None = None
    author: str | None = None
    album: str | None = None
    loudness: LoudnessOut | None = Field(default=None, description="The job's target.")
    chapters: list[ChapterOut] = Field(
        default_factory=list,
        description="Where each chapter runs in the combined file (none for blocks alone).",
    )


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class VoiceOut(BaseModel):
    id: str
    name: str
    language: str | None = Field(default=None, description="Its code, e.g. en_US.")
    description: str | None = None
    # Where the provider knows them (Piper's catalogue); absent otherwise.
    language_name: str | None = Field(default=None, description="In English, e.g. German.")
    quality: str | None = Field(default=None, description="x_low, low, medium or high.")
    speakers: list[str] | None = Field(
        default=None, description="Names a block's `speaker` may give (empty: one speaker)."
    )
    installed: bool | None = Field(
        default=None, description="On this machine already; false: fetched on first use."
    )


class ProviderOut(BaseModel):
    name: str
    type: str
    default_voice: str | None
    model: str | None = None


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


class WebhookSecretOut(BaseModel):
    secret: str = Field(
        description="whsec_ and base64: give it to your receiver's Standard Webhooks library."
    )


class AccountIn(BaseModel):
    """A provider account of your own: your key, your server, your limit."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="How your blocks name it (as their provider); 1-64 of A-Z a-z 0-9 _ . -",
    )
    type: Literal["openai", "elevenlabs", "volcengine"] = Field(description="The provider's API.")
    api_key: SecretStr = Field(description="Stored encrypted; never shown again.")
    base_url: str | None = Field(default=None, description="Another server speaking that API.")
    app_id: str | None = Field(default=None, description="Volcano Engine: the app's id.")
    cluster: str | None = Field(default=None, description="Volcano Engine: the cluster.")
    model: str | None = None
    default_voice: str | None = None
    voices: list[str] | None = Field(
        default=None, description="Voices offered, where the API cannot list them."
    )
    concurrency: int = Field(
        default=4, ge=1, le=1000, description="Requests the account allows in flight."
    )
    timeout_s: float = Field(default=60.0, gt=0, le=600)


class AccountOut(BaseModel):
    name: str
    type: str
    base_url: str | None = None
    app_id: str | None = None
    cluster: str | None = None
    model: str | None = None
    default_voice: str | None = None
    voices: list[str] | None = None
    concurrency: int | None = None
    timeout_s: float
    has_api_key: bool
    created_at: str
