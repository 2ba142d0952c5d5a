"""A job deleted before its time (its user deleted): every key and object of it goes, and a
block that was being made meanwhile leaves nothing that outlives the job."""

from __future__ import annotations

import time

from tests.utils.test_jobs import make_job
from utils.jobs.deletion import delete_job
from utils.jobs.store import JobStore
from utils.names import (
    PREFIX,
    active_jobs_key,
    running_blocks_key,
    webhook_key,
    webhook_marker_key,
    webhooks_due_key,
)
from utils.storage.keys import block_audio_key, final_audio_key
from utils.storage.local import LocalStorage
from utils.webhooks.deliveries import Deliveries

TTL = 3600


def test_every_key_and_object_of_the_job_goes_and_no_other(redis_db, tmp_path):
    store, storage = JobStore(redis_db, TTL), LocalStorage(tmp_path)
    job, other = make_job(store), make_job(store)
    store.start_block(job, 0, "host:1")
    store.finish_block(job, 0, {"storage_key": block_audio_key(job.id, 0), "timings": "[]"})
    store.start_block(job, 1, "host:1")
    deliveries = Deliveries(redis_db)
    deliveries.open(job.id, "job.failed", "https://x.test", "{}", "w1", job.expires_at, 60)
    for key in (block_audio_key(job.id, 0), final_audio_key(job.id), final_audio_key(other.id)):
        storage.put_bytes(key, b"x")
    others_keys = {k: redis_db.dump(k) for k in redis_db.scan_iter(f"{PREFIX}:job:{other.id}*")}

    assert delete_job(store, storage, job.id) == 2
    assert list(redis_db.scan_iter(f"{PREFIX}:job:{job.id}*")) == []
    assert redis_db.zscore(active_jobs_key(), job.id) is None
    assert redis_db.hkeys(running_blocks_key()) == []
    assert redis_db.zcard(webhooks_due_key()) == 0
    assert not redis_db.exists(webhook_key(job.id), webhook_marker_key(job.id, "job.failed"))
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["final.mp3"]  # the other's
    assert {k: redis_db.dump(k) for k in redis_db.scan_iter(f"{PREFIX}:job:{other.id}*")} == (
        others_keys
    )
    assert redis_db.zscore(active_jobs_key(), other.id) is not None


def test_work_finished_after_its_job_was_deleted_leaves_nothing_for_ever(redis_db, tmp_path):
    store, storage = JobStore(redis_db, TTL), LocalStorage(tmp_path)
    job, combined = make_job(store, n=2), make_job(store, n=2)
    store.start_block(job, 0, "host:1")  # being made while the job is deleted
    delete_job(store, storage, job.id)
    store.start_block(job, 1, "host:1")
    store.finish_block(job, 0, {"storage_key": block_audio_key(job.id, 0)})
    delete_job(store, storage, combined.id)  # while its combine runs
    store.complete(combined, final_audio_key(combined.id), 1000, [(0, 400), (500, 1000)])
    for one in (job, combined):
        left = list(redis_db.scan_iter(f"{PREFIX}:job:{one.id}*"))
        assert left  # written again, but each expires with the job
        for key in left:  # the job's own instant: no later than JOB_TTL after it was created
            assert 0 < redis_db.ttl(key) <= one.expires_at - time.time() + 1, key
