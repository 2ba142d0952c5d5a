"""An EPUB made into a job: its options checked as a one-block job would be, the book read
(utils/books/), its text cut into blocks with chapter marks, and the job checked as POST /tts
checks one (api/validation.py), so a book's job keeps every limit a written one does.

The options come in the query string (the body is the book). They are checked first, on a
probe job of two blocks standing for every block and for a chapter's last one, so a wrong
voice is said once, named as the query parameter, before the book is read at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from fastapi.exceptions import RequestValidationError

from api.schemas.jobs import TAG_MAX_CHARS
from api.validation import ValidJob, validate_job
from config import Settings
from utils.audio.cover_art import cover_problem
from utils.books import Book, BookError, read_book
from utils.books.blocks import book_blocks
from utils.errors import FieldError, InvalidRequest
from utils.lexicons.store import LexiconStore
from workers.providers import ProviderRegistry

PROBE_TEXT = "Probe."


@dataclass(frozen=True)
class BookOptions:
    provider: str | None = None
    voice: str | None = None
    speed: float | None = None
    output_format: str | None = None
    pause_ms: int = 600
    chapter_pause_ms: int = 2000
    loudness: str | None = None
    callback_url: str | None = None

    def block(self, text: str, wait_after_ms: int, chapter: str | None = None) -> dict:
        fields = {"provider": self.provider, "voice": self.voice, "speed": self.speed}
        block = {"text": text, "wait_after_ms": wait_after_ms, "chapter": chapter}
        return {k: v for k, v in (fields | block).items() if v is not None}

    def job(self, blocks: list[dict], tags: dict[str, str | None]) -> dict:
        fields = {
            "output_format": self.output_format,
            "loudness": self.loudness,
            "callback_url": self.callback_url,
            **tags,
        }
        return {"blocks": blocks, **{k: v for k, v in fields.items() if v is not None}}


def _in_query(error: dict) -> dict:
    """A problem of the probe job, placed at the query parameter it came from."""
    loc = tuple(error["loc"])
    name = loc[-1]
    if loc[:2] == ("body", "blocks") and len(loc) >= 4:
        if name == "wait_after_ms":
            name = "chapter_pause_ms" if loc[2] == 1 else "pause_ms"
        elif name == "text":
            name = "text"
    elif loc[:1] == ("body",) and len(loc) >= 2:
        name = loc[1]
    return {**error, "loc": ("query", name)}


def check_options(
    options: BookOptions,
    owner: str,
    settings: Settings,
    providers: ProviderRegistry,
    lexicons: LexiconStore | None,
) -> None:
    """RequestValidationError naming each query parameter that a job would refuse."""
    probe = options.job(
        [
            options.block(PROBE_TEXT, options.pause_ms),
            options.block(PROBE_TEXT, options.chapter_pause_ms),
        ],
        {},
    )
    try:
        validate_job(probe, owner, settings, providers, lexicons)
    except RequestValidationError as exc:
        problems, seen = [], set()
        for error in map(_in_query, exc.errors()):
            if error["loc"] not in seen:  # every block of the probe says the same of a voice
                seen.add(error["loc"])
                problems.append(error)
        raise RequestValidationError(problems) from None


def read_upload(data: bytes, settings: Settings) -> Book:
    """The book, or a 422 naming what is wrong with the upload (never a 500)."""
    try:
        return read_book(data, settings.books)
    except BookError as exc:
        raise InvalidRequest([FieldError(("body",), str(exc))]) from None


def book_job(
    book: Book,
    options: BookOptions,
    owner: str,
    settings: Settings,
    providers: ProviderRegistry,
    lexicons: LexiconStore | None,
) -> ValidJob:
    """The job of the book's blocks (title, author, album = title; its cover)."""
    max_chars = min(settings.books.block_chars, settings.MAX_BLOCK_CHARS)
    blocks = book_blocks(book, max_chars, TAG_MAX_CHARS)
    if len(blocks) > settings.MAX_BLOCKS:
        message = (
            f"the book makes {len(blocks)} blocks of up to {max_chars} characters in "
            f"{len(book.chapters)} chapters, more than MAX_BLOCKS ({settings.MAX_BLOCKS})"
        )
        raise InvalidRequest([FieldError(("body",), message)])
    title = book.title[:TAG_MAX_CHARS].strip() if book.title else None
    author = book.author[:TAG_MAX_CHARS].strip() if book.author else None
    body = options.job(
        [
            options.block(
                b.text,
                options.chapter_pause_ms if b.ends_chapter else options.pause_ms,
                b.chapter,
            )
            for b in blocks
        ],
        {"title": title or None, "author": author or None, "album": title or None},
    )
    valid = validate_job(body, owner, settings, providers, lexicons)
    cover = book.cover
    if cover is not None and cover_problem(cover.data, settings.books.max_cover_bytes):
        cover = None  # a book is still read without its picture
    if cover is None:
        return valid
    return replace(valid, options=replace(valid.options, cover=cover.mime), cover=cover)
