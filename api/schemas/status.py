"""Response bodies of GET /status/{id} and GET /jobs: where a job and each block stand."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.webhooks import WebhookStatusOut


class LoudnessOut(BaseModel):
    integrated_lufs: float
    true_peak_db: float


class BlockLoudnessOut(BaseModel):
    """A block's loudness as made, before and after it was brought to the job's target."""

    before_lufs: float | None = Field(description="None: silence, nothing to measure.")
    after_lufs: float | None
    gain_db: float
    true_peak_db: float | None = Field(description="After, 4x oversampled, dBTP.")


class BlockStatusOut(BaseModel):
    index: int
    id: str | None = None
    status: str
    provider: str
    voice: str
    attempts: int
    worker: str | None = Field(
        default=None,
        description="`host:pid` of the worker process that made the block (or is making it); "
        "none for a block not started, or made at submit from the audio cache.",
    )
    cached: bool = False
    duration_ms: int | None = None
    error: str | None = None
    chapter: str | None = None
    loudness: BlockLoudnessOut | None = None


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
    title: str | None = Field(default=None, description="Its title tag (a book's title).")
    preview: str | None = Field(
        default=None,
        description="Its first words: the text from the start, up to about 80 characters "
        "(cut at a word, with an ellipsis).",
    )


class JobListOut(BaseModel):
    jobs: list[JobSummaryOut] = Field(description="Your jobs, newest first.")
    next_cursor: str | None = Field(
        default=None, description="Pass as ?cursor= for the next page; none on the last page."
    )
    next_offset: int | None = Field(
        default=None, description="Or pass as ?offset= (when this page was read by offset)."
    )
