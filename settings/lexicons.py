"""LEXICON_*: pronunciation lexicons (utils/lexicons/, api/routers/lexicons.py).

A user keeps lexicons of their own (POST /lexicons), at most LEXICON_MAX_PER_USER of them, each
at most LEXICON_MAX_BYTES as uploaded. The operator's lexicons (LEXICON_FILES: W3C PLS 1.0
files on the API's machine) apply to every request of every user, before the user's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, NoDecode

from settings.base import group_config
from settings.parsing import comma_or_json_list


class LexiconSettings(BaseSettings):
    """Pronunciation lexicons: how large, how many, and the operator's own."""

    model_config = group_config("LEXICON_")

    max_bytes: int = Field(default=256 * 1024, ge=1024, le=8 * 1024 * 1024)
    """The largest lexicon a user may upload (its PLS document or JSON rules), in bytes."""
    max_per_user: int = Field(default=20, ge=1, le=1000)
    """The most lexicons a user may keep."""
    files: Annotated[list[Path], NoDecode, BeforeValidator(comma_or_json_list)] = []
    """The operator's lexicons: paths of PLS files (comma-separated or a JSON list), applied to
    every request; read when the API starts, and again when a file changes."""
