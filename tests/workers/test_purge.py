import os
import time

import pytest

from config import get_settings
from utils.errors import StorageError
from utils.names import MAINTENANCE_QUEUE, PURGE_STORAGE
from utils.storage.keys import JOBS_FOLDER
from utils.storage.local import LocalStorage
from workers.celery_app import app as celery_app
from workers.housekeeping import purge_temp_files

DAY = 24 * 3600


def _aged(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_files_older_than_the_ttl_are_purged_and_fresh_ones_kept(tmp_path):
    old, fresh, keep = tmp_path / "old.mp3", tmp_path / "sub" / "fresh.mp3", tmp_path / ".gitkeep"
    fresh.parent.mkdir()
    for path in (old, fresh, keep):
        path.write_bytes(b"x")
    _aged(old, 3600)
    _aged(keep, 3600)
    assert purge_temp_files(tmp_path, ttl_s=600) == 1
    assert not old.exists() and fresh.exists() and keep.exists()


def test_beat_runs_the_purge_every_purge_interval():
    entry = celery_app.conf.beat_schedule["purge-storage"]
    assert entry["task"] == PURGE_STORAGE
    assert entry["schedule"] == get_settings().PURGE_INTERVAL
    assert celery_app.conf.task_routes[PURGE_STORAGE]["queue"] == MAINTENANCE_QUEUE


def test_local_storage_purges_exactly_the_old_objects_under_a_prefix(tmp_path):
    storage = LocalStorage(tmp_path)
    for key in ("jobs/old/block_0000.mp3", "jobs/old/final.mp3", "jobs/new/final.mp3"):
        storage.put_bytes(key, b"x")
    storage.put_bytes("cache/ab/old.mp3", b"x")
    for key in ("jobs/old/block_0000.mp3", "jobs/old/final.mp3", "cache/ab/old.mp3"):
        _aged(storage.local_path(key), 8 * DAY)

    assert storage.purge(f"{JOBS_FOLDER}/", older_than_s=7 * DAY) == 2
    assert not (tmp_path / "jobs" / "old").exists()  # the emptied job folder goes too
    assert storage.local_path("jobs/new/final.mp3") is not None
    assert storage.local_path("cache/ab/old.mp3") is not None  # another prefix: untouched


def test_a_used_cached_object_is_kept_by_the_purge(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.put_bytes("cache/ab/used.mp3", b"x")
    _aged(storage.local_path("cache/ab/used.mp3"), 8 * DAY)
    storage.touch("cache/ab/used.mp3")
    assert storage.purge("cache/", older_than_s=7 * DAY) == 0
    assert storage.local_path("cache/ab/used.mp3") is not None


def test_local_storage_refuses_keys_that_climb_out_of_its_root(tmp_path):
    storage = LocalStorage(tmp_path / "root")
    for key in ("../outside.mp3", "/etc/passwd", "jobs/../../outside.mp3", "", "a\x00b"):
        with pytest.raises(StorageError):
            storage.put_bytes(key, b"x")
    assert not (tmp_path / "outside.mp3").exists()
    storage.put_bytes("jobs/a/b.mp3", b"x")
    assert (tmp_path / "root" / "jobs" / "a" / "b.mp3").read_bytes() == b"x"
