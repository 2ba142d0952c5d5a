"""Checksums of the files a snapshot holds, checked once per blob.

huggingface_hub writes each file whole (a temporary file renamed into place) but takes its bytes
on trust. Here every file fetched is checked against what the Hub says of it: the size of each,
and the SHA-256 of each LFS file (the model weights, the voices), which the Hub gives in the
repository listing and as the name of the blob (its ETag). A file that does not match is
deleted, blob and snapshot link both, so nothing the loader could open is left behind.

Hashing 100 MB costs a fraction of a second, too much for every load: a blob found good gets a
marker (`.verified/<sha256>` in the repository's cache folder) holding the blob's size, mtime
and inode, and is not hashed again while the blob is that same file.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
SHA256 = re.compile(r"[0-9a-f]{64}")
VERIFIED = ".verified"


@dataclass(frozen=True)
class Expected:
    """What the Hub says of one file (None: not said, not checked)."""

    size: int | None = None
    sha256: str | None = None


class ChecksumMismatch(Exception):
    def __init__(self, path: str, reason: str):
        self.path = path
        super().__init__(f"checksum mismatch for {path} ({reason}); the file was deleted")


def expected_sha256(pointer: Path, expected: Expected | None) -> str | None:
    """The SHA-256 a file must have: the Hub's listing, else its blob's name (an LFS ETag)."""
    if expected is not None and expected.sha256:
        return expected.sha256.lower()
    name = pointer.resolve().name
    return name if SHA256.fullmatch(name) else None


def is_verified(storage: Path, pointer: Path, sha256: str) -> bool:
    """Whether the blob behind `pointer` was found good before (and is still that file)."""
    try:
        return (storage / VERIFIED / sha256).read_text() == _stamp(pointer)
    except OSError:
        return False


def verify(storage: Path, snapshot: Path, files: dict[str, Expected | None]) -> int:
    """Check each of `files` (repository path -> what the Hub says) in `snapshot`; the bytes
    hashed. ChecksumMismatch, with the file deleted, on the first that does not match."""
    hashed = 0
    for path, expected in files.items():
        pointer = snapshot / path
        size = pointer.stat().st_size
        if expected is not None and expected.size is not None and size != expected.size:
            _discard(storage, pointer, None)
            raise ChecksumMismatch(path, f"{size} bytes, the Hub says {expected.size}")
        want = expected_sha256(pointer, expected)
        if want is None or is_verified(storage, pointer, want):
            continue
        got = _sha256(pointer)
        hashed += size
        if got != want:
            _discard(storage, pointer, want)
            raise ChecksumMismatch(path, f"SHA-256 {got}, the Hub says {want}")
        _mark(storage, pointer, want)
    return hashed


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp(pointer: Path) -> str:
    stat = pointer.stat()  # follows the link: the blob's own
    return f"{stat.st_size} {stat.st_mtime_ns} {stat.st_ino}"


def _mark(storage: Path, pointer: Path, sha256: str) -> None:
    folder = storage / VERIFIED
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{sha256}.{os.getpid()}.tmp"
    temp.write_text(_stamp(pointer))
    os.replace(temp, folder / sha256)


def _discard(storage: Path, pointer: Path, sha256: str | None) -> None:
    """The blob, the link to it and its marker: gone, so the next fetch downloads it again."""
    blob = pointer.resolve()
    for path in (pointer, blob, storage / VERIFIED / sha256 if sha256 else None):
        if path is not None:
            path.unlink(missing_ok=True)
