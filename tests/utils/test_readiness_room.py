"""/ready tells a disk that filled up at once, not when the storage check's reused answer runs
out (it said "writable" for up to READY_STORAGE_CHECK_S after the disk filled)."""

from __future__ import annotations

import shutil
from collections import namedtuple

from utils.readiness import MIN_FREE_BYTES, Readiness
from utils.storage.local import LocalStorage

Usage = namedtuple("Usage", "total used free")


def test_a_full_disk_is_reported_by_the_next_probe(tmp_path, redis_server, monkeypatch):
    storage = LocalStorage(tmp_path / "audio")
    readiness = Readiness(redis_server.url, storage, storage_every_s=3600)  # answer kept 1 h
    try:
        assert readiness.storage_check().ok  # written once, and remembered

        monkeypatch.setattr(shutil, "disk_usage", lambda _path: Usage(10**9, 10**9, 4096))
        full = readiness.storage_check()
        assert not full.ok
        assert "storage is full" in full.detail and f"{MIN_FREE_BYTES // 2**20} MiB" in full.detail

        monkeypatch.undo()
        assert readiness.storage_check().ok
    finally:
        readiness.close()
