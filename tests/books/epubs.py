"""EPUBs the tests build with EbookLib (a well-kept EPUB library), and malformed ones made by
changing a built book's zip: no spine, DRM, a zip bomb, entity declarations."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from ebooklib import epub

TITLE, AUTHOR = "The Lighthouse Keeper", "Ada Marlow"
CHAPTER_ONE = "The Storm"
CHAPTER_TWO = "Morning"
SHORT_TEXT = ["The storm came in from the west.", "Every window of the tower shook."]
# Long enough to be cut into several blocks at paragraph ends (BOOK_BLOCK_CHARS small in tests)
LONG_TEXT = [
    f"Paragraph {n}: the keeper climbed the stairs, trimmed the wick and watched the sea "
    "until the light came back over the water."
    for n in range(1, 7)
]


def png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A small PNG made here, byte by byte: one colour, RGB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def _page(file_name: str, title: str, paragraphs: list[str]) -> epub.EpubHtml:
    page = epub.EpubHtml(title=title, file_name=file_name, lang="en")
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    page.content = f"<html><body><h1>{title}</h1>{body}</body></html>"
    return page


def build_book(cover: bytes | None = None, long_chapter: list[str] | None = None) -> bytes:
    """A two-chapter EPUB 3 (nav and NCX), its second chapter long; a cover where given."""
    book = epub.EpubBook()
    book.set_identifier("lighthouse-keeper-test")
    book.set_title(TITLE)
    book.set_language("en")
    book.add_author(AUTHOR)
    if cover is not None:
        book.set_cover("cover.png", cover)
    one = _page("one.xhtml", CHAPTER_ONE, SHORT_TEXT)
    two = _page("two.xhtml", CHAPTER_TWO, long_chapter or LONG_TEXT)
    for page in (one, two):
        book.add_item(page)
    book.toc = [
        epub.Link("one.xhtml", CHAPTER_ONE, "one"),
        epub.Link("two.xhtml", CHAPTER_TWO, "two"),
    ]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["cover", "nav", one, two] if cover is not None else ["nav", one, two]
    out = io.BytesIO()
    epub.write_epub(out, book)
    return out.getvalue()


def rezip(data: bytes, change: dict[str, bytes | None]) -> bytes:
    """The zip with files replaced (bytes), removed (None) or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename in change:
                continue
            target.writestr(info, source.read(info))
        for name, content in change.items():
            if content is not None:
                target.writestr(name, content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def package_path(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return next(n for n in archive.namelist() if n.endswith(".opf"))


def without_spine(data: bytes) -> bytes:
    path = package_path(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        opf = archive.read(path).decode()
    start, end = opf.index("<spine"), opf.index("</spine>") + len("</spine>")
    return rezip(data, {path: (opf[:start] + opf[end:]).encode()})


ENCRYPTION_XML = """<?xml version="1.0" encoding="UTF-8"?>
<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"
            xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
  <enc:EncryptedData>
    <enc:EncryptionMethod Algorithm="{algorithm}"/>
    <enc:CipherData><enc:CipherReference URI="{uri}"/></enc:CipherData>
  </enc:EncryptedData>
</encryption>
"""


def with_encryption(data: bytes, uri: str, algorithm: str) -> bytes:
    xml = ENCRYPTION_XML.format(uri=uri, algorithm=algorithm).encode()
    return rezip(data, {"META-INF/encryption.xml": xml})


def zip_bomb(data: bytes, expanded_bytes: int) -> bytes:
    """The book with one more file of zeros that deflates ~1000:1 to `expanded_bytes`."""
    out = io.BytesIO(data)
    with (
        zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("OEBPS/padding.bin", "w", force_zip64=True) as member,
    ):
        zeros = bytes(1024 * 1024)
        for _ in range(expanded_bytes // len(zeros)):
            member.write(zeros)
    return out.getvalue()
