"""What a final file says about itself: title, author, album, cover, and chapters.

A block may open a chapter; a chapter runs from its block's start (the block's start_ms in the
final file) to the next chapter's start, or to the end of the file (chapter_marks). The same
marks are written into every container that has a place for them:

- MP3: an ID3v2.4 tag before the first frame (id3_tag, with mutagen): TIT2, TPE1, TALB, TLEN,
  the cover as an attached picture (APIC, front cover) and, for chapters, the ID3 chapter
  frames players read (CHAP per chapter, one top-level ordered CTOC listing them). The frames
  after the tag are the same CBR stream without a Xing/Info frame, so a player's duration
  (size over bitrate, the tag skipped) stays exact.
- MP4 (aac, m4b), FLAC and Ogg Opus: FFmpeg's muxers, given the metadata (ffmpeg_metadata):
  MP4 atoms (©nam, ©ART, ©alb), Vorbis comments (TITLE, ARTIST, ALBUM) for FLAC and Opus.
  MP4 chapters too (ffmpeg_chapters): a QuickTime chapter track and Nero chpl. The cover as
  MP4's `covr` atom, added with mutagen once the file is written (add_mp4_cover).
- FLAC and Opus chapters: the Vorbis CHAPTERnnn / CHAPTERnnnNAME comments, added with mutagen
  once the file is written (add_vorbis_chapters). FFmpeg's FLAC muxer writes none, and its Ogg
  muxer rounds the seconds before adding the milliseconds (1.5 s is written 00:00:02.500).
- WAV and raw PCM carry neither.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import mutagen
from mutagen.id3 import APIC, CHAP, CTOC, ID3, TALB, TIT2, TLEN, TPE1, CTOCFlags, PictureType
from mutagen.mp4 import MP4, MP4Cover

from utils.audio.cover_art import Cover

UTF8 = 3  # ID3v2.4 text encoding
NO_OFFSET = 0xFFFFFFFF  # CHAP: byte offsets unused, times rule
TAG_FIELDS = ("title", "author", "album")


@dataclass(frozen=True)
class Chapter:
    title: str
    block_index: int  # the block that opens it
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class FileTags:
    """The job's tags for its final file."""

    title: str | None = None
    author: str | None = None
    album: str | None = None
    chapters: list[Chapter] = field(default_factory=list)
    duration_ms: int | None = None
    cover: Cover | None = None

    @property
    def empty(self) -> bool:
        return not (self.title or self.author or self.album or self.chapters or self.cover)


def chapter_marks(
    titles: list[str | None], starts_ms: list[int | None], total_ms: int
) -> list[Chapter]:
    """The chapters opened by blocks (`titles[i]` set) given where each block starts; each
    ends where the next one starts, the last at `total_ms`."""
    opened = [
        (index, title, starts_ms[index] or 0)
        for index, title in enumerate(titles)
        if title and starts_ms[index] is not None
    ]
    ends = [start for _, _, start in opened[1:]] + [total_ms] * bool(opened)
    return [
        Chapter(title, index, start, max(start, end))
        for (index, title, start), end in zip(opened, ends, strict=True)
    ]


def job_tags(
    job,
    starts_ms: list[int | None] | None = None,
    total_ms: int | None = None,
    cover: Cover | None = None,
):
    """The tags of a job's file (a JobRecord with its blocks): its title, author and album, and
    where the blocks are placed (`starts_ms`, `total_ms`), its chapters and length. Without
    placement, what is known at submit (a stream's opening tag). `cover`: the job's image
    (utils/jobs/covers.py load_cover), read from storage by the caller."""
    options = job.options
    chapters = []
    if starts_ms is not None:
        titles = [block.spec.chapter for block in job.blocks]
        chapters = chapter_marks(titles, starts_ms, total_ms)
    return FileTags(options.title, options.author, options.album, chapters, total_ms, cover)


def id3_tag(tags: FileTags) -> bytes:
    """An ID3v2.4 tag to put before the MP3 frames; b"" when there is nothing to say (a plain
    job's file stays bare frames)."""
    if tags.empty:
        return b""
    tag = ID3()
    for frame, value in ((TIT2, tags.title), (TPE1, tags.author), (TALB, tags.album)):
        if value:
            tag.add(frame(encoding=UTF8, text=value))
    if tags.cover is not None:
        tag.add(
            APIC(
                encoding=UTF8,
                mime=tags.cover.mime,
                type=PictureType.COVER_FRONT,
                desc="Cover",
                data=tags.cover.data,
            )
        )
    if tags.duration_ms is not None:
        tag.add(TLEN(encoding=UTF8, text=str(tags.duration_ms)))
    if tags.chapters:
        ids = [f"chp{n}" for n in range(len(tags.chapters))]
        tag.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=UTF8, text="Chapters")],
            )
        )
        for element_id, chapter in zip(ids, tags.chapters, strict=True):
            tag.add(
                CHAP(
                    element_id=element_id,
                    start_time=chapter.start_ms,
                    end_time=chapter.end_ms,
                    start_offset=NO_OFFSET,
                    end_offset=NO_OFFSET,
                    sub_frames=[TIT2(encoding=UTF8, text=chapter.title)],
                )
            )
    out = io.BytesIO()
    tag.save(out, v2_version=4, padding=lambda info: 0)
    return out.getvalue()


def id3_size(data: bytes) -> int:
    """Bytes taken by an ID3v2 tag at the start of `data` (0 if none): where frames begin."""
    if len(data) < 10 or data[:3] != b"ID3":
        return 0
    size = 0
    for byte in data[6:10]:  # syncsafe: 7 bits a byte
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if data[5] & 0x10 else 0
    return 10 + size + footer


def ffmpeg_metadata(tags: FileTags) -> dict[str, str]:
    """The container-level metadata FFmpeg's muxers write (author as "artist": ©ART, ARTIST)."""
    names = {"title": tags.title, "artist": tags.author, "album": tags.album}
    return {key: value for key, value in names.items() if value}


def vorbis_time(ms: int) -> str:
    """HH:MM:SS.mmm, as the Vorbis chapter convention writes a start."""
    seconds, millis = divmod(ms, 1000)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{millis:03d}"


def add_vorbis_chapters(path: Path, chapters: list[Chapter]) -> None:
    """CHAPTERnnn (start) and CHAPTERnnnNAME comments in a FLAC or Ogg Opus file."""
    audio = mutagen.File(path)
    for n, chapter in enumerate(chapters):
        audio.tags[f"CHAPTER{n:03d}"] = vorbis_time(chapter.start_ms)
        audio.tags[f"CHAPTER{n:03d}NAME"] = chapter.title
    audio.save()


def add_mp4_cover(path: Path, cover: Cover) -> None:
    """The cover as the MP4 `covr` atom players show (FFmpeg's ipod muxer writes none from
    metadata); mutagen moves the sample offsets when the index grows."""
    audio = MP4(path)
    kind = MP4Cover.FORMAT_PNG if cover.mime == "image/png" else MP4Cover.FORMAT_JPEG
    audio["covr"] = [MP4Cover(cover.data, imageformat=kind)]
    audio.save()


def ffmpeg_chapters(tags: FileTags) -> list[dict]:
    """Chapters as PyAV's OutputContainer.set_chapters takes them."""
    return [
        {
            "id": n,
            "start": chapter.start_ms,
            "end": chapter.end_ms,
            "time_base": Fraction(1, 1000),
            "metadata": {"title": chapter.title},
        }
        for n, chapter in enumerate(tags.chapters)
    ]
