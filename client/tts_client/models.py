"""What the API answers, as typed models. Fields the service adds later are ignored, so an
older client keeps working against a newer service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

FINISHED = ("completed", "failed", "cancelled")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Block(_Model):
    """One block of a job to submit; only `text` is required."""

    model_config = ConfigDict(extra="allow")  # fields this client does not know yet (chapter)

    text: str
    provider: str | None = None
    voice: str | None = None
    wait_after_ms: int | None = None
    speed: float | None = None
    id: str | None = None


class JobAccepted(_Model):
    job_id: str
    status: str
    stream_url: str | None = None
    retried_blocks: list[int] | None = None  # a retry's answer


class JobCancelled(_Model):
    job_id: str
    status: str  # cancelled; or a finished job's own status, where only its audio was purged
    purged: bool = False


class BlockStatus(_Model):
    index: int
    id: str | None = None
    status: str
    provider: str | None = None
    voice: str | None = None
    attempts: int = 0
    cached: bool = False
    duration_ms: int | None = None
    error: str | None = None
    chapter: str | None = None  # the title of the chapter this block opens


class JobStatus(_Model):
    job_id: str
    status: str
    progress: str
    output_format: str | None = None
    blocks: list[BlockStatus] = []
    created_at: str | None = None
    updated_at: str | None = None
    error: str | None = None

    @property
    def done(self) -> int:
        return int(self.progress.split("/")[0])

    @property
    def total(self) -> int:
        return int(self.progress.split("/")[1])

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class BlockResult(_Model):
    index: int
    id: str | None = None
    url: str
    start_ms: int | None = None
    end_ms: int | None = None
    duration_ms: int


class JobResult(_Model):
    job_id: str
    status: str
    output_format: str
    url: str | None = None
    signed_url: str | None = None
    duration_ms: int
    blocks: list[BlockResult] = []


class JobSummary(_Model):
    job_id: str
    status: str
    progress: str
    n_blocks: int
    output_format: str
    created_at: str
    updated_at: str | None = None
    error: str | None = None
    title: str | None = None  # its title tag
    preview: str | None = None  # its first words


class JobPage(_Model):
    jobs: list[JobSummary]
    next_cursor: str | None = None
    next_offset: int | None = None


class Provider(_Model):
    name: str
    type: str
    default_voice: str | None = None
    model: str | None = None


class Voice(_Model):
    id: str
    name: str
    language: str | None = None
    description: str | None = None
