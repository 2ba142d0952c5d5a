"""Bodies of /projects (api/routers/projects.py): a project is a script the service keeps,
blocks as POST /tts takes them plus the job's title, author, format and loudness target."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import STRICT_REQUEST, RequestStr
from api.schemas.jobs import TAG_MAX_CHARS, LoudnessIn
from utils.projects.scripts import FORMATS

ScriptFormat = Literal[FORMATS]  # type: ignore[valid-type]


class ProjectBlock(BaseModel):
    model_config = STRICT_REQUEST

    id: RequestStr | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The block's own id, kept across edits (given one where absent): a "
        "render's blocks say which of them were made again.",
    )
    text: RequestStr = Field(default="", description="What to say, or SSML (<speak>...).")
    provider: RequestStr | None = Field(default=None, description="From GET /tts/providers.")
    voice: RequestStr | None = Field(default=None, description="From GET /tts/voices/{provider}.")
    wait_after_ms: int = Field(default=0, ge=0, description="The pause after it, in ms.")
    speed: float = Field(default=1.0, description="Speaking rate.")
    chapter: RequestStr | None = Field(
        default=None, max_length=TAG_MAX_CHARS, description="This block opens a chapter."
    )


class ProjectContent(BaseModel):
    model_config = STRICT_REQUEST

    title: RequestStr | None = Field(default=None, max_length=TAG_MAX_CHARS)
    author: RequestStr | None = Field(default=None, max_length=TAG_MAX_CHARS)
    output_format: RequestStr | None = Field(
        default=None, description="As a job's (POST /tts); the default one where absent."
    )
    loudness: LoudnessIn | RequestStr | None = Field(
        default=None, description="As a job's: a preset or {integrated_lufs, true_peak_db}."
    )
    blocks: list[ProjectBlock] | None = Field(
        default=None, description="The script as blocks; or give `script` instead."
    )
    script: RequestStr | None = Field(
        default=None,
        description="In place of blocks: a script in plain text (a block per paragraph), "
        "Markdown (headings open chapters), SSML (a block per <p>) or JSON (blocks).",
    )
    script_format: ScriptFormat | None = Field(
        default=None, description="The script's format; found from its first characters."
    )


class ProjectUpdate(ProjectContent):
    version: int | None = Field(
        default=None,
        description='The version this edit was made from (or send If-Match: "<version>"); '
        "a save from an older version is refused with the current one.",
    )


class RenderRecord(BaseModel):
    job_id: str
    version: int = Field(description="The project's version that was rendered.")


class ProjectOut(BaseModel):
    id: str
    version: int
    title: str | None = None
    author: str | None = None
    output_format: str | None = None
    loudness: LoudnessIn | str | None = None
    blocks: list[ProjectBlock]
    created_at: float
    updated_at: float
    last_render: RenderRecord | None = None


class ProjectSummary(BaseModel):
    id: str
    version: int
    title: str | None = None
    first_words: str = Field(description="The start of its text.")
    n_blocks: int
    updated_at: float


class ProjectList(BaseModel):
    projects: list[ProjectSummary]


class RenderedBlock(BaseModel):
    index: int = Field(description="The project block's index.")
    id: str
    made: Literal["new", "cached"] = Field(
        description="cached: its audio came from the cache at once (unchanged since a render); "
        "new: it is being made."
    )
    job_blocks: list[int] = Field(description="The job's blocks it became (SSML: several).")


class RenderOut(BaseModel):
    job_id: str
    status: str
    stream_url: str
    version: int
    blocks: list[RenderedBlock]
    new_blocks: list[int] = Field(description="Indices of the blocks being made.")
    cached_blocks: list[int] = Field(description="Indices of the blocks from the cache.")


class ConflictOut(BaseModel):
    detail: str
    current_version: int
