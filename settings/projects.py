"""PROJECT_*: projects (scripts kept by the service, utils/projects/) and voice previews.

A user keeps at most PROJECT_MAX_PER_USER projects; each holds at most MAX_BLOCKS blocks of
at most MAX_BLOCK_CHARS characters, the limits of a job, since rendering one is a job. A
voice's preview is PROJECT_PREVIEW_TEXT spoken once per provider and voice, waited for at most
PROJECT_PREVIEW_TIMEOUT_S the first time.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from settings.base import group_config


class ProjectSettings(BaseSettings):
    """Projects and voice previews."""

    model_config = group_config("PROJECT_")

    max_per_user: int = Field(default=100, ge=1, le=10_000)
    """The most projects a user may keep."""
    preview_text: str = Field(
        default="Hello! This is how I sound when I read your words aloud.",
        min_length=1,
        max_length=300,
    )
    """The sentence every voice preview speaks."""
    preview_timeout_s: float = Field(default=60.0, gt=0, le=600)
    """How long a first preview of a voice is waited for before a 504."""
