"""A worker killed (SIGKILL) in the middle of a block: its block runs again on another worker
within about 10 s, by its heartbeat's silence alone; a block slower than that on a live
process is never counted lost.

The victim runs in a pid namespace of its own where the machine allows it (root: `unshare`),
so beat cannot see from /proc that it died, as for a worker on another machine: only its
heartbeat's expiry (WORKER_DEAD_AFTER_S) tells. The survivor's own block is a long Piper
synthesis, CPU-bound, running the whole while: its heartbeat thread must beat through it."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import redis

from tests.helpers import bearer, wait_for_job
from tests.worker_process import BeatProcess, WorkerProcess
from utils.names import block_key

pytestmark = pytest.mark.pipeline

DB = 13
LONG_TEXT = " ".join(
    f"Sentence {i} of a long block keeps this worker busy for many seconds." for i in range(70)
)


def own_pid_namespace() -> list[str]:
    """`unshare` arguments that start a command in a pid namespace of its own, where allowed."""
    command = ["unshare", "--pid", "--fork", "--mount-proc"]
    if shutil.which("unshare") and subprocess.run([*command, "true"]).returncode == 0:
        return command
    return []


def record(store, job_id: str, index: int = 0) -> dict:
    return store.hgetall(block_key(job_id, index))


def calls_of(simulator, text: str) -> int:
    return [r["text"] for r in simulator.stats()["recent"]].count(text)


def wait(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        assert time.monotonic() < deadline, what
        time.sleep(0.02)
    return value


def test_a_killed_worker_s_block_runs_again_within_seconds(
    redis_server, simulator, session_dir, request
):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from config import Settings
    from utils.auth.users import UserStore

    url = f"redis://127.0.0.1:{redis_server.port}/{DB}"
    store = redis.Redis.from_url(url, decode_responses=True)
    store.flushdb()
    UserStore(store).set_password("alice", "alice-password")
    env = {"REDIS_URL": url}
    logs = session_dir / request.node.name
    logs.mkdir(exist_ok=True)
    victim = WorkerProcess(logs / "victim.log", env, concurrency=1, name="victim")
    victim.args = [*own_pid_namespace(), *victim.args]
    survivor = WorkerProcess(logs / "survivor.log", env, concurrency=3, name="survivor")
    beat = BeatProcess(logs / "beat", env)
    started = [victim, beat]
    try:
        victim.start().wait_ready()
        beat.start()
        with TestClient(create_app(Settings(**env))) as app:
            alice = bearer(app, "alice")
            simulator.knobs(latency_ms=30_000)  # the victim's block is in flight when killed
            lost = app.post(
                "/tts",
                headers=alice,
                json={"blocks": [{"text": "Lost with its worker.", "provider": "openai"}]},
            ).json()["job_id"]
            victim_name = wait(lambda: record(store, lost).get("worker"), 30, "never started")

            started.append(survivor.start().wait_ready())
            simulator.knobs(latency_ms=300)  # the block made again answers soon
            slow = app.post("/tts", headers=alice, json={"blocks": [{"text": LONG_TEXT}]})
            slow = slow.json()["job_id"]
            wait(lambda: record(store, slow).get("status") == "processing", 60, "slow not started")
            slow_started = time.monotonic()

            # (its call times out after the account's timeout_s and is tried again: counted)
            attempts_before = int(record(store, lost)["attempts"])
            calls_before = calls_of(simulator, "Lost with its worker.")
            victim.kill()
            killed_at = time.monotonic()
            wait(
                lambda: record(store, lost).get("worker") not in (None, victim_name),
                30,
                "the killed worker's block was never made again",
            )
            again_after = time.monotonic() - killed_at
            done = wait_for_job(app, lost, alice, timeout_s=60)
            slow_done = wait_for_job(app, slow, alice, timeout_s=180)
            slow_s = time.monotonic() - slow_started
    finally:
        for process in started:
            process.stop()
        store.close()

    print(
        f"\nkilled worker's block running again {again_after:.2f} s after the kill; "
        f"the survivor's slow block took {slow_s:.1f} s"
    )
    assert again_after < 10.0
    assert done["status"] == "completed"
    assert done["blocks"][0]["attempts"] == attempts_before + 1  # made again, once
    # slower than WORKER_DEAD_AFTER_S, on a live process: made once, never sent again
    assert slow_s > 6.0
    assert slow_done["status"] == "completed" and slow_done["blocks"][0]["attempts"] == 1
    assert calls_of(simulator, "Lost with its worker.") == calls_before + 1
