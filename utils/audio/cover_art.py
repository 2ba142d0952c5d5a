"""A cover image carried into a job's final file: PNG or JPEG, told by its first bytes.

A file's extension or a declared type is the sender's word; the magic bytes are the image's.
Only the two formats every player shows (ID3 APIC, MP4 `covr`) are taken.
"""

from __future__ import annotations

from dataclasses import dataclass

# The signature each format's file starts with, and the type players are told.
MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg"}
ALLOWED = "PNG or JPEG"


@dataclass(frozen=True)
class Cover:
    data: bytes
    mime: str  # image/png or image/jpeg

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.mime]


def image_type(data: bytes) -> str | None:
    """image/png or image/jpeg by the bytes' signature; None for anything else."""
    return next((mime for magic, mime in MAGIC.items() if data.startswith(magic)), None)


def cover_problem(data: bytes, max_bytes: int) -> str | None:
    """What keeps `data` from being a cover, if anything."""
    if len(data) > max_bytes:
        return f"at most {max_bytes} bytes (BOOK_MAX_COVER_BYTES), got {len(data)}"
    if image_type(data) is None:
        return f"must be a {ALLOWED} image (its first bytes are neither)"
    return None


def as_cover(data: bytes) -> Cover | None:
    """A Cover of `data` when it is PNG or JPEG, else None."""
    mime = image_type(data)
    return Cover(data, mime) if mime else None
