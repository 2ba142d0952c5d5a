"""Response body of GET /result/{id}: where the final audio and each block are."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.status import BlockLoudnessOut, LoudnessOut


class ChapterOut(BaseModel):
    title: str
    block_index: int = Field(description="The block that opens it.")
    start_ms: int
    end_ms: int


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
    zip_url: str = Field(
        description="Every block's audio in one zip, in order, in the job's output format."
    )
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
