"""A book as a job's blocks: each chapter's paragraphs grouped into blocks of up to
`max_chars`, cut only at paragraph ends (a paragraph longer than a block, at sentence ends).

The first block of each chapter carries the chapter's title: the job's chapter mark
(BlockSpec.chapter), written into the final file's chapters (utils/audio/tags.py). Paragraphs
in one block are joined by a blank line; a chapter's last block is followed by a longer pause.
"""

from __future__ import annotations

from dataclasses import dataclass

from utils.books.models import Book
from utils.text.sentences import pieces


@dataclass(frozen=True)
class BookBlock:
    text: str
    chapter: str | None  # the title of the chapter this block opens
    ends_chapter: bool


def _units(paragraphs: list[str], max_chars: int, language: str) -> list[str]:
    """Paragraphs, each longer than a block cut into pieces of whole sentences."""
    units: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph) <= max_chars:
            units.append(paragraph)
        else:
            units += pieces(paragraph, max_chars, max_chars, language)
    return units


def book_blocks(book: Book, max_chars: int, title_chars: int = 200) -> list[BookBlock]:
    """The book's blocks in reading order (`title_chars`: the longest chapter title kept)."""
    language = (book.language or "en").split("-")[0].lower()
    blocks: list[BookBlock] = []
    for chapter in book.chapters:
        grouped: list[str] = []
        for unit in _units(chapter.paragraphs, max_chars, language):
            if grouped and len(grouped[-1]) + 2 + len(unit) <= max_chars:
                grouped[-1] = f"{grouped[-1]}\n\n{unit}"
            else:
                grouped.append(unit)
        title = chapter.title[:title_chars].strip()
        for n, text in enumerate(grouped):
            blocks.append(BookBlock(text, title if n == 0 else None, n == len(grouped) - 1))
    return blocks
