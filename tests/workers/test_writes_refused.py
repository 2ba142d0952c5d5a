"""Redis refusing writes (its disk full; here a master told to need a replica it lacks, which
answers NOREPLICAS to every write): a job is refused with 503 and nothing is left of it, or it
is accepted and made; never accepted and left queued."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from tests.helpers import wait_for_job
from utils.names import done_key, job_key

SENTENCE = "A sentence that keeps a worker busy for a little while, said once."


@pytest.fixture
def writes(redis_server):
    """refuse() / allow() writes on the whole server; allowed again whatever the test does."""
    admin = redis.Redis(port=redis_server.port)

    class Writes:
        @staticmethod
        def refuse(for_s: float | None = None) -> None:
            admin.config_set("min-replicas-to-write", 1)
            if for_s is not None:
                threading.Timer(for_s, Writes.allow).start()

        @staticmethod
        def allow() -> None:
            admin.config_set("min-replicas-to-write", 0)

    yield Writes
    Writes.allow()


def job_keys(store: redis.Redis) -> list[str]:
    return store.keys("tts:job:*")


def test_a_job_whose_message_is_refused_leaves_nothing(isolated_service, redis_server, writes):
    """Writes refused between the job's record and its message (a disk filling up): the
    message is refused, and the record is deleted once Redis takes writes again."""
    app, alice = isolated_service(db=10, workers=0)
    store = redis.Redis(port=redis_server.port, db=10, decode_responses=True)
    queue = app.app.state.submitter.queue
    dispatch = queue.dispatch

    def refused_from_now(job_id, indices):
        writes.refuse(for_s=0.5)
        dispatch(job_id, indices)

    queue.dispatch = refused_from_now
    response = app.post("/tts", headers=alice, json={"blocks": [{"text": SENTENCE}]})
    assert response.status_code == 503, response.text
    assert job_keys(store) == []


@pytest.mark.pipeline
def test_a_worker_rides_out_refused_writes_and_jobs_are_refused_or_made(
    isolated_service, redis_server, writes
):
    # As production runs: beat beside the worker (a slot handed on while writes were refused
    # is sent again), and the broker's redelivery of a task cut off by a refused write, here
    # after 10 s rather than BLOCK_TIME_LIMIT + 90 s.
    recovery = {
        "BROKER_VISIBILITY_TIMEOUT": "10",
        "BROKER_RESTORE_INTERVAL": "1",
        "STALL_CHECK_INTERVAL": "2",
        "LOST_WORK_AFTER_S": "5",
        "HANDOFF_GRACE_S": "5",
    }
    app, alice = isolated_service(db=10, workers=1, concurrency=2, env=recovery, beat=True)
    worker = isolated_service.workers[0]
    store = redis.Redis(port=redis_server.port, db=10, decode_responses=True)

    writes.refuse()
    started = time.monotonic()
    response = app.post("/tts", headers=alice, json={"blocks": [{"text": SENTENCE}]})
    assert response.status_code == 503 and response.headers["retry-after"]
    assert time.monotonic() - started < 5
    assert job_keys(store) == []
    time.sleep(2)
    assert worker.process.poll() is None  # its consumer reconnects rather than the worker end
    writes.allow()

    blocks = [{"text": f"Block {i}. {SENTENCE}"} for i in range(6)]
    job_id = app.post("/tts", headers=alice, json={"blocks": blocks}).json()["job_id"]
    deadline = time.monotonic() + 60
    while store.scard(done_key(job_id)) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    writes.refuse(for_s=5)  # mid-job: blocks being made wait for writes, then go on
    status = wait_for_job(app, job_id, alice, timeout_s=90)
    assert status["status"] == "completed", status
    assert store.scard(done_key(job_id)) == len(blocks)
    assert store.hget(job_key(job_id), "combine_runs") == "1"
    assert worker.process.poll() is None
