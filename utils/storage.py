"""Where audio lives once made: local disk (default) or Cloudinary.

Keys are relative paths built by `block_audio_key` / `final_audio_key`, never from raw client
input, and each backend resolves them inside its own root. API and workers on different machines
need a backend they share: a shared volume for `local`, or Cloudinary.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO

from utils.errors import StorageError

JOBS_FOLDER = "jobs"  # one folder per job; the purge drops those of expired jobs


def block_audio_key(job_id: str, index: int) -> str:
    return f"{JOBS_FOLDER}/{job_id}/block_{index:04d}.mp3"


def final_audio_key(job_id: str) -> str:
    return f"{JOBS_FOLDER}/{job_id}/final.mp3"


class Storage(ABC):
    name: str

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> str | None:
        """Store `data`; the URL clients can fetch it from directly, if the backend has one."""

    @abstractmethod
    def put_file(self, key: str, path: Path) -> str | None:
        """Store a finished file (which may be moved); its direct URL, if any."""

    @abstractmethod
    def open(self, key: str, url: str | None = None) -> BinaryIO:
        """Read an object back; `url` is what put_* returned for it."""

    @abstractmethod
    def copy(self, source_key: str, target_key: str, source_url: str | None = None) -> str | None:
        """Make `target_key` hold what `source_key` holds; the target's direct URL, if any."""

    def local_path(self, key: str) -> Path | None:
        """A path on this machine holding the object, when there is one (served with Range)."""
        return None


class LocalStorage(Storage):
    name = "local"

    def __init__(self, root: Path):
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise StorageError(f"key outside storage: {key!r}")
        return path

    def put_bytes(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target and rename, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StorageError(f"could not write {key}") from exc

    def put_file(self, key: str, path: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.move(path, target)
        except OSError as exc:
            raise StorageError(f"could not store {key}") from exc

    def open(self, key: str, url: str | None = None) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise StorageError(f"{key} is not in storage") from exc

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def copy(self, source_key: str, target_key: str, source_url: str | None = None) -> None:
        source, target = self._path(source_key), self._path(target_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.unlink(missing_ok=True)
            os.link(source, target)  # same bytes, no copy; each name is deleted on its own
        except FileNotFoundError as exc:
            raise StorageError(f"{source_key} is not in storage") from exc
        except OSError:
            shutil.copyfile(source, target)  # another filesystem: copy instead


def build_storage(settings) -> Storage:
    if settings.storage_backend == "cloudinary":
        from utils.cloudinary_storage import CloudinaryStorage

        return CloudinaryStorage(settings)
    return LocalStorage(settings.storage_dir)
