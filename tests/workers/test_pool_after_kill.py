"""The local pool after a SIGKILL: the replacement takes work as soon as it is ready, and the
killed processes' blocks are made again then, not when their heartbeats expire (no beat runs
here at all, so nothing but the replacement's start-up can send them)."""

from __future__ import annotations

import time

import pytest
import redis

from tests.helpers import wait_for_job
from tests.worker_process import WorkerProcess
from utils.names import block_key, done_key, job_key, running_blocks_key

pytestmark = pytest.mark.pipeline

SENTENCE = "This sentence is long enough that speaking it keeps a worker busy for a while."


def test_a_replacement_takes_work_at_once_and_remakes_the_killed_blocks(
    isolated_service, redis_server, session_dir
):
    app, alice = isolated_service(db=9, workers=1, concurrency=2)
    victim = isolated_service.workers[0]
    store = redis.Redis(port=redis_server.port, db=9, decode_responses=True)
    blocks = [{"text": f"Block {i}. {SENTENCE} {SENTENCE}"} for i in range(8)]
    job_id = app.post("/tts", headers=alice, json={"blocks": blocks}).json()["job_id"]

    deadline = time.monotonic() + 60
    while store.hlen(running_blocks_key()) < 2:  # both processes are making a block
        assert time.monotonic() < deadline, "the victim never held two blocks"
        time.sleep(0.02)
    held = {int(f.rsplit(":", 1)[1]): w for f, w in store.hgetall(running_blocks_key()).items()}
    victim.kill()
    killed_at = time.monotonic()

    replacement = WorkerProcess(
        session_dir / "replacement.log", {"REDIS_URL": victim.env["REDIS_URL"]}, 2, name="r"
    )
    try:
        replacement.start().wait_ready()
        ready_at = time.monotonic()
        first_start = lost_started = lost_made = None
        while lost_made is None:
            assert time.monotonic() - killed_at < 60, "the replacement took no work"
            with store.pipeline(transaction=False) as pipe:
                for index in range(len(blocks)):
                    pipe.hmget(block_key(job_id, index), "worker", "status")
                records = pipe.execute()
            now = time.monotonic()
            anew = [i for i, (w, _) in enumerate(records) if w and w not in held.values()]
            if first_start is None and anew:  # started by a process of the replacement
                first_start = now
            if lost_started is None and set(held) <= set(anew):
                lost_started = now
            if all(records[i][1] == "completed" for i in held) and lost_started:
                lost_made = now
            time.sleep(0.02)
        status = wait_for_job(app, job_id, alice, timeout_s=120)
    finally:
        replacement.stop()

    print(
        f"\nafter the kill: replacement ready {ready_at - killed_at:.1f} s, "
        f"its first block {first_start - killed_at:.1f} s, "
        f"the killed blocks started again {lost_started - killed_at:.1f} s "
        f"and made {lost_made - killed_at:.1f} s"
    )
    # the dead processes' heartbeats would expire after 30 s, and only then would beat act
    assert first_start - ready_at < 10
    assert lost_started - ready_at < 10
    assert status["status"] == "completed", status
    assert all(status["blocks"][i]["attempts"] >= 2 for i in held)  # made again
    assert store.scard(done_key(job_id)) == len(blocks)  # each counted once
    assert store.hget(job_key(job_id), "combine_runs") == "1"  # combined once
