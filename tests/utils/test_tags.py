"""Title, author, album and chapters, as each container carries them."""

from __future__ import annotations

import io

import av
import mutagen
import numpy as np
import pytest
from mutagen.id3 import ID3

from utils.audio.encoders import encode_file
from utils.audio.formats import OutputFormat
from utils.audio.tags import Chapter, FileTags, chapter_marks, id3_size, id3_tag


def test_a_chapter_runs_from_its_block_to_the_next_chapter_or_the_end():
    marks = chapter_marks([None, "One", None, "Two"], [46, 1200, 2500, 4100], 6000)
    assert marks == [Chapter("One", 1, 1200, 4100), Chapter("Two", 3, 4100, 6000)]
    assert chapter_marks([None, None], [0, 10], 20) == []


def test_the_id3_tag_carries_tags_length_and_chapters_players_read():
    chapters = [Chapter("Prologue", 0, 46, 5000), Chapter("Chapter 1", 2, 5000, 9000)]
    data = id3_tag(FileTags("A title", "An author", "An album", chapters, 9000))
    assert id3_size(data) == len(data)  # no padding: the frames follow at once
    tag = ID3(io.BytesIO(data))
    assert (str(tag["TIT2"]), str(tag["TPE1"]), str(tag["TALB"])) == (
        "A title",
        "An author",
        "An album",
    )
    assert str(tag["TLEN"]) == "9000"
    (toc,) = tag.getall("CTOC")
    assert toc.child_element_ids == ["chp0", "chp1"]
    read = [(str(c.sub_frames["TIT2"]), c.start_time, c.end_time) for c in tag.getall("CHAP")]
    assert sorted(read, key=lambda c: c[1]) == [
        ("Prologue", 46, 5000),
        ("Chapter 1", 5000, 9000),
    ]
    assert id3_tag(FileTags()) == b"" and id3_size(b"\xff\xf3" * 10) == 0


@pytest.mark.parametrize("name", ["flac_24000", "opus_24000_32", "m4b_24000_64"])
def test_tags_and_chapters_in_the_other_containers(tmp_path, name):
    fmt = OutputFormat.parse(name)
    pcm = (6000 * np.sin(np.arange(24000 * 3) / 7)).astype(np.int16)
    chapters = [Chapter("Start", 0, 0, 1500), Chapter("Middle", 1, 1500, 3000)]
    path = tmp_path / f"x.{fmt.extension}"
    encode_file(fmt, [pcm], path, FileTags("T", "Au", "Al", chapters, 3000))
    tags = mutagen.File(path).tags
    if fmt.family_name == "m4b":
        assert (tags["©nam"], tags["©ART"], tags["©alb"]) == (["T"], ["Au"], ["Al"])
        marks = mutagen.File(path).chapters
        assert [(c.title, c.start) for c in marks] == [("Start", 0.0), ("Middle", 1.5)]
    else:  # Vorbis comments, with chapters by their convention
        assert (tags["title"], tags["artist"], tags["album"]) == (["T"], ["Au"], ["Al"])
        assert (tags["CHAPTER001"], tags["CHAPTER001NAME"]) == (["00:00:01.500"], ["Middle"])
    found = [(c["metadata"]["title"], c["start"]) for c in av.open(str(path)).chapters()]
    if fmt.family_name != "flac":  # FFmpeg reads no chapters from FLAC
        assert found == [("Start", 0), ("Middle", 1500)]
    container = av.open(str(path))  # still whole after the tags were written
    samples = sum(f.samples for f in container.decode(audio=0))
    assert samples / container.streams.audio[0].sample_rate == pytest.approx(3.0, abs=0.03)
