"""What every storage backend does (built from settings.storage.StorageSettings).

A backend is addressed by key alone (utils/storage/keys.py): it stores, reads back, copies,
says where a client can fetch an object directly (if anywhere), and purges its own objects by
prefix and age. Callers never carry a backend's URLs or paths around.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO


class Storage(ABC):
    name: str

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing what was there."""

    @abstractmethod
    def put_file(self, key: str, path: Path) -> None:
        """Store a finished file under `key` (the file may be moved)."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Read an object back; ObjectNotFound if it is not there."""

    @abstractmethod
    def copy(self, source_key: str, target_key: str) -> None:
        """Make `target_key` hold what `source_key` holds; StorageError if the source is gone."""

    @abstractmethod
    def purge(self, prefix: str, older_than_s: float, now: float | None = None) -> int:
        """Delete the objects under `prefix` last written (or used) more than `older_than_s`
        ago; how many."""

    def url(self, key: str) -> str | None:
        """Where a client can fetch the object directly, if the backend serves it itself."""
        return None

    def local_path(self, key: str) -> Path | None:
        """A path on this machine holding the object, when there is one (served with Range)."""
        return None

    def free_bytes(self) -> int | None:
        """Room left for new objects, where the backend can tell cheaply (None: it cannot, or
        its room is not this service's to watch, as a cloud store's)."""
        return None

    def touch(self, key: str) -> None:  # noqa: B027 - a backend that cannot, need not
        """Note a use of the object, so an age-based purge keeps it."""
