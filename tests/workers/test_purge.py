import os
import time
import uuid

from config import get_settings
from utils.redis_keys import job_key
from utils.storage import JOBS_FOLDER
from workers.celery_app import PURGE_TEMP
from workers.celery_app import app as celery_app
from workers.context import worker_context
from workers.purge import EXPIRED_JOB_GRACE_S, purge_expired_job_audio, purge_temp_files


def test_files_older_than_the_ttl_are_purged_and_fresh_ones_kept(tmp_path):
    old, fresh, keep = tmp_path / "old.mp3", tmp_path / "sub" / "fresh.mp3", tmp_path / ".gitkeep"
    fresh.parent.mkdir()
    for path in (old, fresh, keep):
        path.write_bytes(b"x")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    os.utime(keep, (hour_ago, hour_ago))
    assert purge_temp_files(tmp_path, ttl_s=600) == 1
    assert not old.exists() and fresh.exists() and keep.exists()


def test_beat_runs_the_purge_every_purge_interval():
    entry = celery_app.conf.beat_schedule["purge-temp-files"]
    assert entry["task"] == PURGE_TEMP
    assert entry["schedule"] == get_settings().PURGE_INTERVAL
    assert celery_app.conf.task_routes[PURGE_TEMP]["queue"] == "tts.maintenance"


def test_audio_of_expired_jobs_is_purged_and_live_jobs_kept(service_redis):
    ctx = worker_context()
    jobs_dir = ctx.storage.root / JOBS_FOLDER
    expired, live = jobs_dir / str(uuid.uuid4()), jobs_dir / str(uuid.uuid4())
    for folder in (expired, live):
        folder.mkdir(parents=True)
        (folder / "final.mp3").write_bytes(b"x")
    service_redis.hset(job_key(live.name), "status", "completed")

    purge_expired_job_audio(ctx)
    assert expired.exists() and live.exists()  # too young: its keys may still be on their way
    later = time.time() + EXPIRED_JOB_GRACE_S + 1
    assert purge_expired_job_audio(ctx, now=later) >= 1  # earlier tests' jobs may go too
    assert not expired.exists() and live.exists()
