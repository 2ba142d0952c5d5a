"""Scripts inside pipelines (utils/redis_scripts.py), against a real Redis: sent as EVALSHA
without a SCRIPT EXISTS first, and loaded again where Redis lost them."""

from __future__ import annotations

import uuid

import redis

from tests.redis_monitor import commands_sent
from utils.accounts.slots import AccountSlots, SlotRequest
from utils.embedded_redis import EmbeddedRedis, free_port
from utils.jobs.cancellation import JobCancellation
from utils.jobs.models import BlockSpec, BlockStatus, JobStatus
from utils.jobs.store import JobStore


def make_job(store: JobStore, n: int = 3):
    specs = [BlockSpec(text=f"block {i}", provider="piper", voice="joe") for i in range(n)]
    return store.create(str(uuid.uuid4()), "alice", "mp3_24000_64", specs)


def test_a_jobs_creation_asks_redis_nothing_before_its_script(redis_db, redis_server):
    store = JobStore(redis_db, 3600)
    make_job(store)  # the script known to Redis from here on
    sent = commands_sent(redis_db, redis_server.port, lambda: make_job(store))
    assert "SCRIPT" not in sent, sent
    assert sent.count("EVALSHA") == 1 and sent.count("MULTI") == 1, sent


def test_a_redis_that_lost_its_scripts_is_given_them_again(redis_db):
    store = JobStore(redis_db, 3600)
    make_job(store)
    redis_db.script_flush()  # as after a restart or a failover to a replica
    job = make_job(store, 4)
    read = store.get(job.id)
    assert read.status == JobStatus.QUEUED and len(read.blocks) == 4
    assert [b.spec.text for b in read.blocks] == [f"block {i}" for i in range(4)]

    redis_db.script_flush()
    slots = AccountSlots(redis_db)
    requests = [SlotRequest("acct", f"{job.id}:{i}", 2, 30.0, "alice") for i in range(4)]
    granted = [a.granted for a in slots.acquire_for_later(requests)]
    assert granted == [True, True, False, False]  # each script ran once, not twice

    redis_db.script_flush()
    assert JobCancellation(store).cancel(job.id) == (JobStatus.CANCELLED, True)
    assert {b.status for b in store.get(job.id).blocks} == {BlockStatus.SKIPPED}


def test_scripts_are_loaded_on_the_redis_that_lacks_them_not_the_first_one_used(redis_db, tmp_path):
    make_job(JobStore(redis_db, 3600))  # the scripts first used with the session's Redis
    other = EmbeddedRedis(free_port(), tmp_path / "other", persistent=False).start()
    try:
        client = redis.Redis.from_url(other.url, decode_responses=True)
        job = make_job(JobStore(client, 3600), 2)  # a fresh server: no script loaded there
        assert len(JobStore(client, 3600).get(job.id).blocks) == 2
        client.close()
    finally:
        other.stop()
