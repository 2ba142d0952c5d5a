"""`tts synth book.epub -o book.m4b` (and .mp3) against the live service and the session's
real worker (Piper): a chaptered audiobook whose chapters, tags and cover are read back with
mutagen and FFmpeg, and whose chapters are checked against the decoded audio."""

from __future__ import annotations

import re
import subprocess

import httpx
import imageio_ffmpeg
import numpy as np
import pytest
from mutagen.id3 import ID3
from mutagen.mp4 import MP4, MP4Cover
from tts_client import TTSClient

from tests.audio_helpers import ffmpeg_decode, rms
from tests.books.epubs import (
    AUTHOR,
    CHAPTER_ONE,
    CHAPTER_TWO,
    TITLE,
    build_book,
    png,
    without_spine,
)
from tests.helpers import served

RATE = 24_000
CHAPTER_PAUSE_MS = 2000  # POST /tts/book's default: silence after a chapter's last block


@pytest.fixture
def service_url(service_redis, users, worker):
    from api.main import create_app
    from config import Settings

    # small blocks: the long chapter is cut in three, and the test's speech stays short
    with served(create_app(Settings(BOOK_BLOCK_CHARS=300))) as url:
        yield url


@pytest.fixture
def logged_in(service_url):
    with TTSClient(service_url, username="alice", password="alice-password") as client:
        key = client.create_api_key("book test")["key"]
    return {"TTS_URL": service_url, "TTS_API_KEY": key}


def ffmpeg_chapters(path) -> list[tuple[str, float, float]]:
    """(title, start s, end s) of each chapter, as FFmpeg reads the file."""
    out = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    chapters = []
    for section in out.split("[CHAPTER]")[1:]:
        fields = dict(line.split("=", 1) for line in section.strip().splitlines() if "=" in line)
        num, den = map(int, fields["TIMEBASE"].split("/"))
        start, end = int(fields["START"]) * num / den, int(fields["END"]) * num / den
        chapters.append((fields["title"], start, end))
    return chapters


def check_chapters_in_the_audio(samples: np.ndarray, chapters, blocks) -> None:
    """Chapter two starts where its first block does, right after chapter one's long pause
    (silence in the audio), and the speech of each chapter is inside it."""
    (_, start_1, end_1), (_, start_2, end_2) = chapters
    # MP3: the first sample is heard after the encoder's delay (tens of ms)
    assert 0 <= start_1 < 0.06 and end_1 == pytest.approx(start_2, abs=0.002)
    assert start_2 == pytest.approx(blocks[1]["start_ms"] / 1000, abs=0.03)
    assert end_2 == pytest.approx(len(samples) / RATE, abs=0.1)
    at = int(start_2 * RATE)
    pause = samples[at - int(1.5 * RATE) : at - int(0.1 * RATE)]
    speech_1 = samples[: blocks[0]["end_ms"] * RATE // 1000]
    speech_2 = samples[at : at + RATE]
    assert rms(pause) < 0.02 * rms(speech_1), (rms(pause), rms(speech_1))
    assert rms(speech_2) > 10 * rms(pause)


def test_an_epub_becomes_a_chaptered_m4b_and_mp3_with_its_cover(logged_in, tts, tmp_path):
    cover = png(16, 16, (20, 90, 160))
    book = tmp_path / "keeper.epub"
    book.write_bytes(build_book(cover=cover))

    m4b = tmp_path / "keeper.m4b"
    code, out, err = tts("synth", str(book), "-o", str(m4b), **logged_in)
    assert code == 0, err
    assert out.strip() == str(m4b)
    # progress per chapter, each line once its blocks are made
    assert f"done    chapter 1 of 2: {CHAPTER_ONE} (1 block," in err
    assert f"done    chapter 2 of 2: {CHAPTER_TWO} (3 blocks," in err
    job_id = re.search(r"^job ([0-9a-f-]{36})", err, re.M).group(1)
    headers = {"Authorization": f"Bearer {logged_in['TTS_API_KEY']}"}
    result = httpx.get(f"{logged_in['TTS_URL']}/result/{job_id}", headers=headers).json()
    assert result["output_format"] == "m4b_24000_64"  # picked by the extension

    tags = MP4(m4b)
    assert tags["©nam"] == [TITLE] and tags["©ART"] == [AUTHOR] and tags["©alb"] == [TITLE]
    [embedded] = tags["covr"]
    assert bytes(embedded) == cover and embedded.imageformat == MP4Cover.FORMAT_PNG
    chapters = ffmpeg_chapters(m4b)
    assert [c[0] for c in chapters] == [CHAPTER_ONE, CHAPTER_TWO]
    samples = ffmpeg_decode(m4b.read_bytes(), RATE)
    assert len(samples) / RATE == pytest.approx(result["duration_ms"] / 1000, abs=0.1)
    check_chapters_in_the_audio(samples, chapters, result["blocks"])

    mp3 = tmp_path / "keeper.mp3"
    code, out, err = tts("synth", str(book), "-o", str(mp3), **logged_in)
    assert code == 0, err
    tag = ID3(mp3)
    assert (str(tag["TIT2"]), str(tag["TPE1"]), str(tag["TALB"])) == (TITLE, AUTHOR, TITLE)
    [picture] = tag.getall("APIC")
    assert picture.data == cover and picture.mime == "image/png" and picture.type == 3
    marks = sorted(tag.getall("CHAP"), key=lambda c: c.start_time)
    assert [str(c.sub_frames["TIT2"]) for c in marks] == [CHAPTER_ONE, CHAPTER_TWO]
    mp3_chapters = [
        (str(c.sub_frames["TIT2"]), c.start_time / 1000, c.end_time / 1000) for c in marks
    ]
    # FFmpeg reads the same ID3 chapters (this build lists them last frame first)
    read_by_ffmpeg = sorted(ffmpeg_chapters(mp3), key=lambda c: c[1])
    assert [c[0] for c in read_by_ffmpeg] == [CHAPTER_ONE, CHAPTER_TWO]
    for (_, *times), (_, *expected) in zip(read_by_ffmpeg, mp3_chapters, strict=True):
        assert times == pytest.approx(expected, abs=0.002)
    job_id = re.search(r"^job ([0-9a-f-]{36})", err, re.M).group(1)
    result = httpx.get(f"{logged_in['TTS_URL']}/result/{job_id}", headers=headers).json()
    samples = ffmpeg_decode(mp3.read_bytes(), RATE)
    check_chapters_in_the_audio(samples, mp3_chapters, result["blocks"])

    # the job listing shows the book's title
    code, out, _ = tts("jobs", **logged_in)
    assert code == 0 and TITLE in out


def test_a_malformed_book_is_refused_with_the_reason(logged_in, tts, tmp_path):
    book = tmp_path / "broken.epub"
    book.write_bytes(without_spine(build_book()))
    code, _, err = tts("synth", str(book), "-o", str(tmp_path / "x.m4b"), **logged_in)
    assert code == 2 and "the package has no <spine>" in err, err
    assert not (tmp_path / "x.m4b").exists()
