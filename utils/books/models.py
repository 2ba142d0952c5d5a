"""What a book is once read: its metadata, its cover, its chapters as paragraphs of text."""

from __future__ import annotations

from dataclasses import dataclass, field

from utils.audio.cover_art import Cover


class BookError(ValueError):
    """An EPUB refused: the message says what is wrong and where (which file of the book)."""


@dataclass(frozen=True)
class Chapter:
    title: str
    paragraphs: list[str]


@dataclass(frozen=True)
class Book:
    title: str | None
    author: str | None
    language: str | None
    cover: Cover | None
    chapters: list[Chapter] = field(default_factory=list)


__all__ = ["Book", "BookError", "Chapter", "Cover"]
