"""Local disk storage: the default. Objects are files under one root, written atomically.

API and workers on different machines share it through a shared volume.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from utils.errors import ObjectNotFound, StorageError, disk_error
from utils.storage.base import Storage


class LocalStorage(Storage):
    name = "local"

    def __init__(self, root: Path):
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.root).free  # one statvfs: cheap enough for every probe

    def _path(self, key: str) -> Path:
        # Checked by its parts, not by resolving links (a syscall per folder, on every read
        # and write): a key is relative and never climbs.
        parts = PurePosixPath(key).parts
        if not parts or key.startswith("/") or ".." in parts or "\x00" in key:
            raise StorageError(f"key outside storage: {key!r}")
        return self.root.joinpath(*parts)

    def put_bytes(self, key: str, data: bytes) -> None:
        path, tmp = self._path(key), None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write beside the target and rename, so a reader never sees half a file.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            if tmp:
                Path(tmp).unlink(missing_ok=True)
            raise disk_error(exc, f"could not write {key}") from exc

    def put_file(self, key: str, path: Path) -> None:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
        except OSError as exc:
            raise disk_error(exc, f"could not store {key}") from exc

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"{key} is not in storage") from exc

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def copy(self, source_key: str, target_key: str) -> None:
        source, target = self._path(source_key), self._path(target_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.unlink(missing_ok=True)
            os.link(source, target)  # same bytes, no copy; each name is deleted on its own
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"{source_key} is not in storage") from exc
        except OSError:
            try:
                shutil.copyfile(source, target)  # another filesystem: copy instead
            except OSError as exc:
                raise disk_error(exc, f"could not copy {source_key}") from exc

    def touch(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):  # purged meanwhile: the next read says so
            os.utime(self._path(key))

    def purge(self, prefix: str, older_than_s: float, now: float | None = None) -> int:
        folder = self._path(prefix)
        if not folder.is_dir():
            return 0
        cutoff = (now or time.time()) - older_than_s
        removed = 0
        for path in folder.rglob("*"):
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # another purge got there first
        # Folders left empty (a whole job's audio gone) go too, deepest first.
        for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if path.is_dir():
                with contextlib.suppress(OSError):  # not empty, or just written into
                    path.rmdir()
        return removed
