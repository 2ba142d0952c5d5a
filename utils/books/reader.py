"""An EPUB read into a Book: metadata, cover, chapters from its table of contents.

The zip is checked first (utils/books/archive.py: limits, entities, DRM, a spine), then read
with EbookLib. Chapters follow the table of contents (the EPUB 3 nav document, else the EPUB 2
NCX), every level in reading order; each runs from where its entry points (a document, or an
anchor in one) to where the next entry starts, through the spine. Text before the first entry
(a cover page, a title page) is not read. A book whose contents point nowhere in the spine
gets a chapter per spine document with text, named by its first heading.
"""

from __future__ import annotations

import io
import posixpath
import warnings
from urllib.parse import unquote

import ebooklib
from ebooklib import epub

from settings.books import BookSettings
from utils.audio.cover_art import Cover, as_cover
from utils.books.archive import check_archive
from utils.books.models import Book, BookError, Chapter
from utils.books.text import Anchor, document_events, document_title

Start = tuple[str, str | None]  # (document, anchor id or None): where a chapter starts


def read_book(data: bytes, limits: BookSettings | None = None) -> Book:
    """The book in `data` (an EPUB's bytes); BookError naming what is wrong and where.
    `limits`: the service's (settings.books); default, BOOK_* as the environment sets them."""
    limits = limits or BookSettings()
    check_archive(data, limits)
    try:
        with warnings.catch_warnings():  # EbookLib's notices about its future defaults
            warnings.simplefilter("ignore")
            book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": False})
    except BookError:
        raise
    except Exception as exc:  # EbookLib says little that a reader could act on
        raise BookError(
            f"the EPUB could not be read: its package names a file it lacks or is malformed "
            f"({type(exc).__name__})"
        ) from None
    documents = _spine_documents(book)
    if not documents:
        raise BookError("the book's spine lists no XHTML documents: nothing to read")
    chapters = _toc_chapters(book, documents) or _spine_chapters(documents)
    if not chapters:
        raise BookError("the book has no readable text in its spine's documents")
    if len(chapters) > limits.max_chapters:
        raise BookError(
            f"the book has {len(chapters)} chapters, more than {limits.max_chapters} "
            "(BOOK_MAX_CHAPTERS)"
        )
    return Book(
        title=_metadata(book, "title"),
        author=_metadata(book, "creator"),
        language=_metadata(book, "language"),
        cover=_cover(book),
        chapters=chapters,
    )


def _metadata(book: epub.EpubBook, name: str) -> str | None:
    values = [v for v, _ in book.get_metadata("DC", name) if isinstance(v, str) and v.strip()]
    return " ".join(values[0].split()) if values else None


def _spine_documents(book: epub.EpubBook) -> list[tuple[str, bytes]]:
    """(file name, content) of each XHTML document of the spine, in reading order."""
    found = []
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is not None and item.get_type() in (
            ebooklib.ITEM_DOCUMENT,
            ebooklib.ITEM_NAVIGATION,
        ):
            if isinstance(item, epub.EpubNav):
                continue  # the table of contents itself is not read aloud
            found.append((posixpath.normpath(item.file_name), item.get_content()))
    return found


def _toc_entries(toc, out: list[tuple[str, Start]]) -> list[tuple[str, Start]]:
    """The table of contents flattened in reading order: (title, where it starts)."""
    for entry in toc:
        if isinstance(entry, tuple | list):
            section, children = entry[0], entry[1] if len(entry) > 1 else []
            if getattr(section, "href", ""):
                out.append((section.title, _start(section.href)))
            _toc_entries(children, out)
        elif getattr(entry, "href", None):
            out.append((entry.title, _start(entry.href)))
    return out


def _start(href: str) -> Start:
    path, _, fragment = unquote(href).partition("#")
    return posixpath.normpath(path), fragment or None


def _toc_chapters(book: epub.EpubBook, documents: list[tuple[str, bytes]]) -> list[Chapter]:
    names = {name for name, _ in documents}
    entries = [(t, s) for t, s in _toc_entries(book.toc, []) if s[0] in names]
    if not entries:
        return []
    titles: dict[Start, list[str]] = {}
    for title, start in entries:
        titles.setdefault(start, []).append(" ".join((title or "").split()))
    chapters: list[Chapter] = []
    current: Chapter | None = None

    def open_at(start: Start) -> None:
        nonlocal current
        for title in titles.get(start, []):  # two entries at one place: the first stays empty
            current = Chapter(title or f"Chapter {len(chapters) + 1}", [])
            chapters.append(current)

    for name, content in documents:
        open_at((name, None))
        anchors = frozenset(a for (doc, a) in titles if doc == name and a)
        for event in document_events(content, anchors):
            if isinstance(event, Anchor):
                open_at((name, event.id))
            elif isinstance(event, str) and current is not None:
                current.paragraphs.append(event)
    return [chapter for chapter in chapters if chapter.paragraphs]


def _spine_chapters(documents: list[tuple[str, bytes]]) -> list[Chapter]:
    chapters = []
    for _name, content in documents:
        paragraphs = [e for e in document_events(content) if isinstance(e, str)]
        if paragraphs:
            title = document_title(content) or f"Chapter {len(chapters) + 1}"
            chapters.append(Chapter(title, paragraphs))
    return chapters


def _cover(book: epub.EpubBook) -> Cover | None:
    """The cover image (PNG or JPEG): EPUB 3's cover-image item, else EPUB 2's
    <meta name="cover">, else an image named cover."""
    candidates = list(book.get_items_of_type(ebooklib.ITEM_COVER))
    for _, attributes in book.get_metadata("OPF", "cover"):
        item = book.get_item_with_id(attributes.get("content", ""))
        if item is not None:
            candidates.append(item)
    images = list(book.get_items_of_type(ebooklib.ITEM_IMAGE))
    candidates += [i for i in images if "cover" in (i.file_name or "").lower()]
    for item in candidates:
        cover = as_cover(item.get_content() or b"")
        if cover is not None:
            return cover
    return None
