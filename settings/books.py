"""BOOK_*: EPUB books turned into jobs (utils/books/, api/routers/books.py).

An EPUB is a zip: a few megabytes uploaded may declare gigabytes inside. Every limit here is
checked before anything is decompressed into memory (utils/books/archive.py), and the book's
text is cut into blocks no longer than BOOK_BLOCK_CHARS (and never past MAX_BLOCK_CHARS).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from settings.base import group_config


class BookSettings(BaseSettings):
    """EPUB books: upload and expansion limits, and how a book becomes blocks."""

    model_config = group_config("BOOK_")

    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    """The largest EPUB accepted by POST /tts/book (the request body; other routes keep
    MAX_BODY_BYTES)."""
    max_expanded_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)
    """The most bytes an EPUB's files may expand to, together (declared sizes checked before
    reading, actual bytes counted while reading): a zip bomb is refused, never inflated."""
    max_files: int = Field(default=5000, ge=1)
    """The most files an EPUB may hold."""
    max_chapters: int = Field(default=500, ge=1)
    """The most chapters a book may have."""
    max_cover_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    """The largest cover image (PNG or JPEG) a job carries into its file."""
    block_chars: int = Field(default=2000, ge=100)
    """A book's text is cut into blocks of up to this many characters (at paragraph ends,
    else sentence ends), and never more than MAX_BLOCK_CHARS."""
