"""JobStore against a real Redis server."""

import threading
import time
import uuid

import pytest

from utils.errors import NotFound
from utils.jobs.models import BlockSpec, BlockStatus, JobStatus
from utils.jobs.recovery import reset_for_retry, without_progress
from utils.jobs.store import JobStore
from utils.names import block_key, combine_marker_key, done_key, job_key

TTL = 3600


@pytest.fixture
def store(redis_db):
    return JobStore(redis_db, TTL)


def make_job(store, n=3, owner="alice"):
    job_id = str(uuid.uuid4())
    specs = [BlockSpec(f"block {i}", "piper", "en_US-joe-medium", 100 * i) for i in range(n)]
    store.create(job_id, owner, "mp3_24000_64", specs)
    return store.get(job_id)


def test_a_created_job_reads_back_with_its_blocks(store):
    job = make_job(store)
    assert job.status == JobStatus.QUEUED and job.n_blocks == 3 and job.owner == "alice"
    assert [b.spec.text for b in job.blocks] == ["block 0", "block 1", "block 2"]
    assert [b.spec.wait_after_ms for b in job.blocks] == [0, 100, 200]
    assert all(b.status == BlockStatus.QUEUED for b in job.blocks)


def test_another_owner_sees_not_found(store):
    job = make_job(store)
    with pytest.raises(NotFound):
        store.get(job.id, owner="bob")
    assert store.get(job.id, owner="alice").id == job.id


def test_every_key_of_a_job_expires_at_the_same_instant(store, redis_db):
    job = make_job(store, n=2)
    for index in range(2):
        store.finish_block(job, index, {"storage_key": f"k{index}", "n_samples": 1, "n_frames": 1})
    keys = [
        job_key(job.id),
        block_key(job.id, 0),
        block_key(job.id, 1),
        done_key(job.id),
        combine_marker_key(job.id),
    ]
    ttls = [redis_db.ttl(key) for key in keys]
    assert max(ttls) - min(ttls) <= 1
    assert TTL - 5 < min(ttls) <= TTL


def test_a_redelivered_block_never_counts_twice(store, redis_db):
    job = make_job(store, n=3)
    assert store.finish_block(job, 0, {"storage_key": "a"}) is False
    assert store.finish_block(job, 0, {"storage_key": "a"}) is False
    assert store.finish_block(job, 1, {"storage_key": "b"}) is False
    assert redis_db.scard(done_key(job.id)) == 2
    assert store.finish_block(job, 2, {"storage_key": "c"}) is True
    assert store.finish_block(job, 2, {"storage_key": "c"}) is False  # the combine is enqueued once


def test_exactly_one_of_many_racing_finishers_enqueues_the_combine(store):
    job = make_job(store, n=8)
    winners = []
    barrier = threading.Barrier(16)

    def finish(index):
        barrier.wait()
        if store.finish_block(job, index, {"storage_key": str(index)}):
            winners.append(index)

    threads = [threading.Thread(target=finish, args=(i % 8,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    assert store.get(job.id).done_count == 8


def test_a_failed_block_fails_the_job_with_its_reason_and_keeps_the_first(store):
    job = make_job(store)
    store.start_block(job, 1)
    store.fail_block(job.id, 1, "piper: unknown voice")
    store.fail_block(job.id, 2, "later failure")
    failed = store.get(job.id)
    assert failed.status == JobStatus.FAILED
    assert failed.error == "block 1: piper: unknown voice"
    assert failed.blocks[1].status == BlockStatus.FAILED and failed.blocks[1].attempts == 1


def test_a_finished_job_does_not_move_back(store):
    job = make_job(store)
    store.fail(job.id, "stopped")
    store.start_block(job, 0)
    store.set_combining(job.id)
    assert store.get(job.id).status == JobStatus.FAILED


def test_status_moves_forward_as_blocks_start_and_complete(store):
    job = make_job(store, n=1)
    store.start_block(job, 0)
    assert store.get(job.id).status == JobStatus.PROCESSING
    store.set_combining(job.id)
    assert store.get(job.id).status == JobStatus.COMBINING
    store.complete(job, "jobs/x/final.mp3", 1234, [(46, 900)])
    done = store.get(job.id)
    assert (done.status, done.storage_key, done.duration_ms) == (
        JobStatus.COMPLETED,
        "jobs/x/final.mp3",
        1234,
    )
    assert (done.blocks[0].start_ms, done.blocks[0].end_ms) == (46, 900)


def test_a_retry_resets_only_unfinished_blocks_and_clears_the_combine_marker(store, redis_db):
    job = make_job(store, n=3)
    store.finish_block(job, 0, {"storage_key": "k0", "n_samples": 1, "n_frames": 1})
    store.fail_block(job.id, 1, "upstream said no")
    redis_db.set(combine_marker_key(job.id), "1")

    assert reset_for_retry(store, store.get(job.id)) == [1, 2]
    again = store.get(job.id)
    assert again.status == JobStatus.PROCESSING and again.error is None
    assert [b.status for b in again.blocks] == [
        BlockStatus.COMPLETED,
        BlockStatus.QUEUED,
        BlockStatus.QUEUED,
    ]
    assert again.blocks[1].error is None
    assert not redis_db.exists(combine_marker_key(job.id))


def test_only_unfinished_jobs_without_progress_for_the_timeout_are_listed(store, redis_db):
    quiet, busy, done = make_job(store), make_job(store), make_job(store, n=1)
    for job in (quiet, busy, done):  # all created two minutes ago
        redis_db.hset(job_key(job.id), "updated_at", "2020-01-01T00:00:00.000Z")
    store.start_block(busy, 0)  # progress: updated_at moves to now
    store.finish_block(done, 0, {"storage_key": "k", "n_samples": 1, "n_frames": 1})
    store.complete(done, "jobs/x/final.mp3", 10, [(0, 10)])

    assert without_progress(store, 60) == [quiet.id]
    assert set(without_progress(store, 60, now=time.time() + 120)) == {quiet.id, busy.id}
