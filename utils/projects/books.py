"""An EPUB made into a project's script: a block per paragraph, each chapter's first block
opening it, the book's title and author as the project's.

utils/books reads the EPUB (its table of contents, metadata, and the refusals of a broken or
protected book); it is imported when a book is read, so the rest of the projects code never
depends on it.
"""

from __future__ import annotations

from utils.projects.scripts import Script, ScriptError, paragraph_blocks


def read_book_script(data: bytes, max_chars: int) -> Script:
    try:
        from utils.books import BookError, read_book
    except ImportError:  # pragma: no cover - a build without EPUB reading
        raise ScriptError("EPUB books cannot be read by this server") from None
    try:
        book = read_book(data)
    except BookError as exc:
        raise ScriptError(f"EPUB: {exc}") from None
    blocks: list[dict] = []
    for chapter in book.chapters:
        for n, paragraph in enumerate(p.strip() for p in chapter.paragraphs if p.strip()):
            blocks += paragraph_blocks(paragraph, max_chars, chapter.title if n == 0 else None)
    if not blocks:
        raise ScriptError("EPUB: the book has no text to speak")
    return Script(blocks, book.title or None, book.author or None)
