"""What a job and its blocks are, as read from Redis (utils/jobs/store.py stores them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from utils.audio.loudness_target import Leveled, LoudnessTarget
from utils.text.source_map import SourceMap, TextMark, marks_from_json


class JobStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMBINING = "combining"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"  # by its owner (utils/jobs/cancellation.py)

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class BlockStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"  # not made: its job failed (a retry runs it) or was cancelled first


@dataclass(frozen=True)
class BlockSpec:
    """What the client asked of one block, after defaults are applied."""

    text: str
    provider: str
    voice: str
    wait_after_ms: int = 0
    speed: float = 1.0
    client_id: str | None = None  # the client's own name for the block, returned as given
    # For providers that take them (OpenAI-type): a model other than the account's configured
    # one, and style instructions (gpt-4o-mini-tts). Others ignore both.
    model: str | None = None
    instructions: str | None = None
    # Gain applied to the block's audio on its worker (SSML prosody volume), in dB.
    volume_db: float = 0.0
    # A speaker of a multi-speaker voice (Piper): its name, or its index as text.
    speaker: str | None = None
    chapter: str | None = None  # the title of the chapter this block opens
    # Where its text was in the input as sent (speech marks' byte offsets), and the SSML
    # <mark>s in it (utils/text/source_map.py). Blocks stored before these have neither.
    source_map: SourceMap | None = None
    marks: tuple[TextMark, ...] = ()
    # Where pronunciation lexicons changed what is said (utils/lexicons/): the text the
    # provider is given, where its replacements are (rules.Applied.encoded), and the lexicons
    # applied (owner/name@version, in the audio cache's key). `text` stays the user's.
    said: str | None = None
    said_map: str | None = None
    lexicons: str | None = None

    @property
    def provider_text(self) -> str:
        return self.said if self.said is not None else self.text


def prosody_context(
    spec: BlockSpec, before: BlockSpec | None, after: BlockSpec | None
) -> tuple[str | None, str | None]:
    """The text of the neighbours spoken in the same voice: providers that take context
    (ElevenLabs' previous_text/next_text) make prosody flow across blocks made in parallel."""
    return tuple(
        other.text
        if other and (other.provider, other.voice) == (spec.provider, spec.voice)
        else None
        for other in (before, after)
    )


@dataclass
class BlockRecord:
    index: int
    spec: BlockSpec
    status: BlockStatus
    attempts: int = 0
    storage_key: str | None = None
    n_samples: int | None = None
    n_frames: int | None = None
    duration_ms: int | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    error: str | None = None
    cached: bool = False
    leveled: Leveled | None = None  # its loudness before and after, where the job has a target
    worker: str | None = None  # host:pid of the process that made it (or is making it)

    @classmethod
    def from_hash(cls, index: int, raw: dict[str, str]) -> BlockRecord:
        def num(name: str) -> int | None:
            return int(raw[name]) if raw.get(name) not in (None, "") else None

        spec = BlockSpec(
            text=raw["text"],
            provider=raw["provider"],
            voice=raw["voice"],
            wait_after_ms=int(raw.get("wait_after_ms", 0)),
            speed=float(raw.get("speed", 1.0)),
            client_id=raw.get("client_id") or None,
            model=raw.get("model") or None,
            instructions=raw.get("instructions") or None,
            volume_db=float(raw.get("volume_db") or 0.0),
            speaker=raw.get("speaker") or None,
            chapter=raw.get("chapter") or None,
            source_map=SourceMap.from_json(raw["source_map"]) if raw.get("source_map") else None,
            marks=marks_from_json(raw["marks"]) if raw.get("marks") else (),
            said=raw.get("said"),
            said_map=raw.get("said_map") or None,
            lexicons=raw.get("lexicons") or None,
        )
        return cls(
            index=index,
            spec=spec,
            status=BlockStatus(raw["status"]),
            attempts=int(raw.get("attempts", 0)),
            storage_key=raw.get("storage_key") or None,
            n_samples=num("n_samples"),
            n_frames=num("n_frames"),
            duration_ms=num("duration_ms"),
            start_ms=num("start_ms"),
            end_ms=num("end_ms"),
            error=raw.get("error") or None,
            cached=raw.get("cached") == "1",
            leveled=Leveled.from_fields(raw),
            worker=raw.get("worker") or None,
        )


@dataclass(frozen=True)
class JobOptions:
    """What a job asks beyond the blocks: tags, a cover and a loudness target for its final
    file, and whether its first block is made alone before the rest (workers/lead_first.py)."""

    title: str | None = None
    author: str | None = None
    album: str | None = None
    loudness: LoudnessTarget | None = None
    lead_alone: bool = False
    # The type of the cover image stored with the job (utils/jobs/covers.py), else None.
    cover: str | None = None

    def to_fields(self) -> dict[str, str]:
        """As stored on the job's hash (only what was asked for)."""
        tags = {"title": self.title, "author": self.author, "album": self.album}
        fields = {name: value for name, value in tags.items() if value}
        if self.cover:
            fields["cover"] = self.cover
        if self.lead_alone:
            fields["lead_alone"] = "1"
        return fields | (self.loudness.to_fields() if self.loudness else {})

    @classmethod
    def from_hash(cls, raw: dict[str, str]) -> JobOptions:
        return cls(
            title=raw.get("title") or None,
            author=raw.get("author") or None,
            album=raw.get("album") or None,
            loudness=LoudnessTarget.from_fields(raw),
            lead_alone=raw.get("lead_alone") == "1",
            cover=raw.get("cover") or None,
        )


@dataclass
class JobRecord:
    id: str
    owner: str
    status: JobStatus
    n_blocks: int
    output_format: str
    created_at: str
    updated_at: str
    expires_at: int
    storage_key: str | None = None
    duration_ms: int | None = None
    error: str | None = None
    combine: bool = True  # False: a job of blocks alone, complete once every block is stored
    recoveries: int = 0  # times its lost work was sent again
    callback_url: str | None = None  # where its outcome is POSTed (workers/webhooks.py)
    options: JobOptions = field(default_factory=JobOptions)
    blocks: list[BlockRecord] = field(default_factory=list)

    @property
    def done_count(self) -> int:
        return sum(b.status == BlockStatus.COMPLETED for b in self.blocks)

    @classmethod
    def from_hash(cls, job_id: str, raw: dict[str, str]) -> JobRecord:
        return cls(
            id=job_id,
            owner=raw["owner"],
            status=JobStatus(raw["status"]),
            n_blocks=int(raw["n_blocks"]),
            output_format=raw["output_format"],
            created_at=raw["created_at"],
            updated_at=raw["updated_at"],
            expires_at=int(raw["expires_at"]),
            storage_key=raw.get("storage_key") or None,
            duration_ms=int(raw["duration_ms"]) if raw.get("duration_ms") else None,
            error=raw.get("error") or None,
            combine=raw.get("combine", "1") == "1",
            recoveries=int(raw.get("recoveries", 0)),
            callback_url=raw.get("callback_url") or None,
            options=JobOptions.from_hash(raw),
        )
