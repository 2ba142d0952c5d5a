"""POST /tts/book: an EPUB made into a chaptered job; each malformed book refused with a 422
naming the problem (never a 500); the job listing's title and first words."""

from __future__ import annotations

import base64
import io
import os
import zipfile

import pytest

from tests.books.epubs import (
    AUTHOR,
    CHAPTER_ONE,
    CHAPTER_TWO,
    TITLE,
    build_book,
    package_path,
    png,
    rezip,
    with_encryption,
    without_spine,
    zip_bomb,
)
from utils.names import block_key
from utils.storage.keys import cover_key

EPUB = {"Content-Type": "application/epub+zip"}
BLOCK_CHARS = 300  # the long chapter (six paragraphs of ~120 characters) makes three blocks


@pytest.fixture
def app(service_redis):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from config import Settings

    with TestClient(create_app(Settings(BOOK_BLOCK_CHARS=BLOCK_CHARS))) as client:
        yield client


def submit(app, headers, data: bytes, **params):
    return app.post("/tts/book", content=data, params=params, headers={**headers, **EPUB})


def problem(response) -> str:
    assert response.status_code == 422, response.text
    [detail] = response.json()["detail"]
    return detail["msg"]


@pytest.fixture(scope="module")
def book() -> bytes:
    return build_book(cover=png())


def test_a_book_becomes_one_job_with_chapters_tags_cover_and_listing_fields(
    app, alice, book, service_redis
):
    answer = submit(app, alice, book, pause_ms=300, chapter_pause_ms=1500)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job_id"]
    status = app.get(f"/status/{job_id}", headers=alice).json()
    blocks = status["blocks"]
    # chapter one fits a block; chapter two (six long paragraphs) is cut at paragraph ends
    assert [b.get("chapter") for b in blocks[:2]] == [CHAPTER_ONE, CHAPTER_TWO]
    assert len(blocks) == 4 and all("chapter" not in b for b in blocks[2:])
    stored = [service_redis.hgetall(block_key(job_id, i)) for i in range(4)]
    assert all(len(b["text"]) <= BLOCK_CHARS for b in stored)
    # whole paragraphs only, in order; a chapter's last block is followed by the longer pause
    assert [b["text"].count("Paragraph") for b in stored] == [0, 2, 2, 2]
    assert [int(b["wait_after_ms"]) for b in stored] == [1500, 300, 300, 1500]
    job = service_redis.hgetall(f"tts:job:{job_id}")
    assert (job["title"], job["author"], job["album"]) == (TITLE, AUTHOR, TITLE)
    assert job["cover"] == "image/png"
    stored = app.app.state.storage.open(cover_key(job_id, "png")).read()
    assert stored == png()

    listed = app.get("/jobs", headers=alice).json()["jobs"][0]
    assert listed["job_id"] == job_id and listed["title"] == TITLE
    assert listed["preview"].startswith(f"{CHAPTER_ONE} The storm came in from the west.")
    assert len(listed["preview"]) <= 81 and listed["preview"].endswith("…")


def test_a_multipart_upload_is_read_as_the_same_book(app, alice, book):
    answer = app.post(
        "/tts/book",
        files={"file": ("book.epub", book, "application/epub+zip")},
        params={"output_format": "m4b_24000_64"},
        headers=alice,
    )
    assert answer.status_code == 202, answer.text
    missing = app.post("/tts/book", files={"other": ("x", b"x")}, headers=alice)
    assert "the part named `file`" in problem(missing)


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda b: b"PK\x03\x04 this is not really a zip", "not an EPUB: the upload is not a zip"),
        (lambda b: b"plain text", "not a zip archive"),
        (without_spine, "the package has no <spine>"),
        (
            lambda b: with_encryption(
                b, "EPUB/one.xhtml", "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
            ),
            "DRM-protected: META-INF/encryption.xml encrypts EPUB/one.xhtml",
        ),
        (lambda b: rezip(b, {"META-INF/rights.xml": b"<rights/>"}), "DRM-protected"),
        (
            lambda b: rezip(b, {"META-INF/container.xml": None}),
            "the zip has no META-INF/container.xml",
        ),
        (
            lambda b: rezip(
                b,
                {
                    package_path(b): b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]>'
                    b"<package/>"
                },
            ),
            "declares XML entities",
        ),
    ],
    ids=["not-a-zip", "text", "no-spine", "drm-encryption", "drm-rights", "no-container", "xxe"],
)
def test_each_malformed_book_is_refused_naming_the_problem(app, alice, book, make, says):
    message = problem(submit(app, alice, make(book)))
    assert message.startswith("body: ") and says in message, message


def test_a_zip_bomb_is_refused_before_it_is_inflated(app, alice, book):
    limit = app.app.state.settings.books.max_expanded_bytes
    bomb = zip_bomb(book, limit + 8 * 1024 * 1024)
    assert len(bomb) < limit // 100  # deflated, it is small
    message = problem(submit(app, alice, bomb))
    assert "more than" in message and "(BOOK_MAX_EXPANDED_BYTES)" in message
    assert "OEBPS/padding.bin" in message


def test_a_file_that_inflates_past_what_it_declares_is_refused(app, alice, book):
    out = io.BytesIO(book)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OEBPS/liar.bin", bytes(4 * 1024 * 1024))
    data = bytearray(out.getvalue())
    # the central directory's entry: declared uncompressed size (offset 24) set to 100 bytes
    entry = data.rindex(b"PK\x01\x02")
    assert data[entry + 46 : entry + 46 + 14] == b"OEBPS/liar.bin"
    data[entry + 24 : entry + 28] = (100).to_bytes(4, "little")
    assert "OEBPS/liar.bin: damaged in the zip" in problem(submit(app, alice, bytes(data)))


def test_font_obfuscation_is_not_drm(app, alice, book):
    font = with_encryption(book, "EPUB/fonts/a.otf", "http://www.idpf.org/2008/embedding")
    assert submit(app, alice, font).status_code == 202


def test_options_are_checked_before_the_book_and_named_as_query_parameters(app, alice, book):
    answer = submit(app, alice, book, voice="no-such-voice", pause_ms=10**7)
    assert answer.status_code == 422
    fields = {d["loc"][-1]: d["msg"] for d in answer.json()["detail"]}
    assert set(fields) == {"voice", "pause_ms"}, fields
    assert answer.json()["detail"][0]["loc"][0] == "query"
    text = {**alice, "Content-Type": "text/plain"}
    wrong_type = app.post("/tts/book", content=book, headers=text)
    assert "text/plain; allowed: application/epub+zip" in problem(wrong_type)


def test_the_upload_limit_is_the_books_own(app, alice, book):
    settings = app.app.state.settings
    # larger than any other request may be, within the book's limit: read
    padded = rezip(book, {"EPUB/extra.bin": os.urandom(settings.MAX_BODY_BYTES + 1024)})
    assert settings.MAX_BODY_BYTES < len(padded) < settings.books.max_upload_bytes
    assert submit(app, alice, padded).status_code == 202
    # other routes keep MAX_BODY_BYTES
    assert app.post("/tts", content=padded, headers=alice).status_code == 413


def test_a_job_of_blocks_takes_a_cover_checked_by_its_bytes(app, alice, service_redis):
    job = {"blocks": [{"text": "Hello."}], "title": "With a cover"}
    gif = base64.b64encode(b"GIF89a" + bytes(20)).decode()
    for cover, says in ((gif, "must be a PNG or JPEG image"), ("%%%", "in base64")):
        answer = app.post("/tts", json={**job, "cover": cover}, headers=alice)
        [detail] = answer.json()["detail"]
        assert detail["loc"] == ["body", "cover"] and says in detail["msg"], detail
    jpeg = b"\xff\xd8\xff\xe0" + bytes(100)
    answer = app.post("/tts", json={**job, "cover": base64.b64encode(jpeg).decode()}, headers=alice)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job_id"]
    assert service_redis.hget(f"tts:job:{job_id}", "cover") == "image/jpeg"
    assert app.app.state.storage.open(cover_key(job_id, "jpg")).read() == jpeg
