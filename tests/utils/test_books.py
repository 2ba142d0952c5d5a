"""utils/books: an EPUB read into chapters of paragraphs (tables of contents with anchors and
nesting, a book without one), its cover, its text cut into blocks at paragraph ends."""

from __future__ import annotations

import io

import pytest
from ebooklib import epub

from settings.books import BookSettings
from tests.books.epubs import AUTHOR, LONG_TEXT, TITLE, build_book, png
from utils.books import BookError, read_book
from utils.books.blocks import book_blocks


def _epub(pages: dict[str, str], toc, spine: list[str] | None = None) -> bytes:
    book = epub.EpubBook()
    book.set_identifier("x")
    book.set_title("Anchors")
    book.set_language("en")
    items = {}
    for name, body in pages.items():
        page = epub.EpubHtml(title=name, file_name=name, lang="en")
        page.content = f"<html><body>{body}</body></html>"
        book.add_item(page)
        items[name] = page
    book.toc = toc
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = [items[n] for n in spine or pages]
    out = io.BytesIO()
    epub.write_epub(out, book)
    return out.getvalue()


def test_metadata_cover_and_chapters_of_a_built_book():
    book = read_book(build_book(cover=png()))
    assert (book.title, book.author, book.language) == (TITLE, AUTHOR, "en")
    assert book.cover is not None and book.cover.mime == "image/png"
    assert book.cover.data == png()
    assert [c.title for c in book.chapters] == ["The Storm", "Morning"]
    assert book.chapters[1].paragraphs[1:] == LONG_TEXT


def test_chapters_start_at_anchors_nested_entries_included_front_matter_left_out():
    pages = {
        "front.xhtml": "<p>Title page, not in the contents.</p>",
        "body.xhtml": '<h1 id="a">Part A</h1><p>Alpha <em>one</em>.</p><div><p>Alpha two.</p>'
        '</div><h2 id="b">Part B</h2><p>Beta<br/>line.</p><script>x()</script>',
        "end.xhtml": "<p>The end.</p>",
    }
    toc = [
        (
            epub.Section("Book", "body.xhtml#a"),
            [epub.Link("body.xhtml#b", "Second", "b"), epub.Link("end.xhtml", "Last", "c")],
        )
    ]
    book = read_book(_epub(pages, toc))
    assert [(c.title, c.paragraphs) for c in book.chapters] == [
        ("Book", ["Part A", "Alpha one.", "Alpha two."]),
        ("Second", ["Part B", "Beta line."]),
        ("Last", ["The end."]),
    ]


def test_without_a_usable_contents_each_spine_document_is_a_chapter_named_by_its_heading():
    pages = {"one.xhtml": "<h2>First</h2><p>One.</p>", "two.xhtml": "<p>Two.</p>"}
    book = read_book(_epub(pages, [epub.Link("missing.xhtml", "Nowhere", "m")]))
    assert [(c.title, c.paragraphs) for c in book.chapters] == [
        ("First", ["First", "One."]),
        ("Chapter 2", ["Two."]),
    ]


def test_limits_of_chapters_and_expansion_are_the_settings_given():
    data = build_book()
    with pytest.raises(BookError, match=r"2 chapters, more than 1 \(BOOK_MAX_CHAPTERS\)"):
        read_book(data, BookSettings(BOOK_MAX_CHAPTERS=1))
    with pytest.raises(BookError, match=r"more than 2000 \(BOOK_MAX_EXPANDED_BYTES\)"):
        read_book(data, BookSettings(BOOK_MAX_EXPANDED_BYTES=2000))
    with pytest.raises(BookError, match=r"more than 3 \(BOOK_MAX_FILES\)"):
        read_book(data, BookSettings(BOOK_MAX_FILES=3))
    assert isinstance(BookError("x"), ValueError)


def test_blocks_cut_at_paragraph_ends_and_long_paragraphs_at_sentences():
    long_paragraph = " ".join(f"Sentence {n} is here." for n in range(40))  # ~800 characters
    book = read_book(build_book(long_chapter=[long_paragraph, "Short one."]))
    blocks = book_blocks(book, 300)
    assert blocks[0].chapter == "The Storm" and blocks[0].ends_chapter
    two = blocks[1:]
    assert two[0].chapter == "Morning" and all(b.chapter is None for b in two[1:])
    assert all(len(b.text) <= 300 for b in blocks) and two[-1].ends_chapter
    # every sentence kept once, in order, each block ending where a sentence does
    spoken = " ".join(b.text.replace("\n\n", " ") for b in two)
    assert spoken == f"Morning {long_paragraph} Short one."
    assert all(b.text.endswith(".") for b in two)
