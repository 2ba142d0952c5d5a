"""The run command (`make run`) as a real process: parts that die come back, the job completes.

One run command serves the whole module: it starts its own Redis, worker, beat and API on free
ports in a temporary data directory.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import time

import httpx
import pytest
import redis

from tests.scripts.run_process import (
    ADMIN_PASSWORD,
    RunCommand,
    alive,
    children_of,
    run_env,
    run_once,
)
from utils.names import done_key, job_key

pytestmark = pytest.mark.pipeline

SENTENCES = (
    "This block is long enough that speaking it keeps a worker busy for a little while. "
    "It goes on with a second sentence, and then a third one, so that the kill lands while "
    "the block is still being synthesized. "
)
N_BLOCKS = 6


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run-command")
    # Default settings: a worker that dies holding blocks has them sent again by beat once its
    # processes' heartbeats stop, long before the broker's visibility timeout.
    env = run_env(tmp)
    run = RunCommand(env, tmp / "run.log").start()
    try:
        yield run.wait_ready()
    finally:
        run.stop()


@pytest.fixture(scope="module")
def api(service):
    client = httpx.Client(base_url=service.base_url, timeout=10)
    token = client.post("/token", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert token.status_code == 200, token.text
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    yield client
    client.close()


def store(service) -> redis.Redis:
    return redis.Redis(port=int(service.env["EMBEDDED_REDIS_PORT"]), decode_responses=True)


def test_a_killed_worker_is_restarted_and_its_job_completes(service, api):
    api_pid = service.pids()["api"]
    blocks = [{"text": f"Block {i}. {SENTENCES}", "wait_after_ms": 100} for i in range(N_BLOCKS)]
    job_id = api.post("/tts", json={"blocks": blocks}).json()["job_id"]

    def processing() -> list[int]:
        body = api.get(f"/status/{job_id}").json()
        return [b["index"] for b in body["blocks"] if b["status"] == "processing"]

    service.wait_until(lambda: processing(), "a block in progress", timeout_s=60)
    held = processing()
    victim = service.pids()["worker-local"]  # Piper blocks: the local pool
    pool = children_of(victim)
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    # Sampled before the supervisor notices (it polls every 0.2 s): do pool processes outlive
    # their main process by themselves?
    time.sleep(0.1)
    pool_alive_after_kill = [pid for pid in pool if alive(pid)]

    # The API answers every poll while the worker is down and being restarted.
    ready_after_s = None
    while True:
        if ready_after_s is None and service.workers_ready() >= 3:  # both pools, then the new
            ready_after_s = time.monotonic() - killed_at
        status = api.get(f"/status/{job_id}")
        assert status.status_code == 200, status.text
        body = status.json()
        if body["status"] in ("completed", "failed"):
            break
        assert time.monotonic() - killed_at < 180, f"job not done 3 minutes after the kill: {body}"
        time.sleep(0.5)
    took_s = time.monotonic() - killed_at

    assert body["status"] == "completed", body
    assert body["progress"] == f"{N_BLOCKS}/{N_BLOCKS}"
    attempts = [b["attempts"] for b in body["blocks"]]
    assert ready_after_s is not None  # the restarted worker did the queued blocks
    assert all(a >= 1 for a in attempts), attempts
    assert all(attempts[i] >= 2 for i in held), (held, attempts)  # redone after the kill
    client = store(service)
    assert client.scard(done_key(job_id)) == N_BLOCKS  # each block counted once
    assert client.hget(job_key(job_id), "combine_runs") == "1"  # combined once

    log = service.log()
    died = re.search(rf"run: worker-local \(pid {victim}\) was killed by SIGKILL.*", log)
    assert died and "restarting it in" in died[0], log[-3000:]
    assert service.pids()["worker-local"] not in (None, victim)
    assert service.pids()["api"] == api_pid  # the API stayed up throughout
    assert not [pid for pid in pool if alive(pid)]  # no orphan left doing work
    print(
        f"\nkill test: job done {took_s:.1f} s after SIGKILL of the worker's main process; "
        f"new worker ready after {ready_after_s:.1f} s; "
        f"blocks held {held}, attempts {attempts}; pool processes {pool}, "
        f"alive 0.1 s after the kill: {pool_alive_after_kill}; supervisor: {died[0]}"
    )


def wyoming_answers(service) -> bool:
    from api.wyoming.alive import answers

    try:
        return asyncio.run(asyncio.wait_for(answers("127.0.0.1", service.wyoming_port), 3))
    except (OSError, TimeoutError):
        return False


def test_the_wyoming_server_runs_beside_the_api(service):
    service.wait_until(lambda: wyoming_answers(service), "the Wyoming server's pong")
    assert service.pids()["wyoming"]


@pytest.mark.parametrize("name", ["redis", "beat", "api", "wyoming"])
def test_a_killed_redis_beat_or_api_comes_back(service, name):
    victim = service.pids()[name]
    os.kill(victim, signal.SIGKILL)
    service.wait_until(
        lambda: service.pids()[name] not in (None, victim), f"{name} restarted", timeout_s=30
    )
    service.wait_until(service.healthy, "API health after the restart", timeout_s=60)
    assert re.search(rf"run: {name} \(pid {victim}\) was killed by SIGKILL", service.log())
    if name == "wyoming":
        service.wait_until(lambda: wyoming_answers(service), "the Wyoming server back")


def test_a_second_run_command_on_the_same_data_dir_is_refused(service, tmp_path):
    env = run_env(tmp_path, DATA_DIR=service.env["DATA_DIR"])
    result = run_once(env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"run: another run command (pid {service.process.pid}) is using DATA_DIR "
        f"{service.env['DATA_DIR']}; stop it, or give this one a DATA_DIR of its own"
    )
    assert service.healthy()


def test_a_port_in_use_is_said_in_one_line(service, tmp_path):
    env = run_env(tmp_path, API_PORT=service.env["API_PORT"])
    result = run_once(env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"run: port {env['API_PORT']} on 127.0.0.1 is already in use; stop what holds it, "
        "or choose another with API_PORT in .env (or --port)"
    )
    assert not (tmp_path / "data" / "redis").exists()  # nothing was started


def test_a_redis_port_taken_by_something_else_is_said_in_one_line(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        env = run_env(tmp_path, EMBEDDED_REDIS_PORT=str(squatter.getsockname()[1]))
        result = run_once(env, timeout_s=30)  # the squatter never answers PING: not a Redis
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"run: port {env['EMBEDDED_REDIS_PORT']} on 127.0.0.1 is already in use; stop what "
        "holds it, or choose another with EMBEDDED_REDIS_PORT in .env"
    )


def test_ctrl_c_stops_everything(service):
    pids = service.pids()
    os.kill(service.process.pid, signal.SIGINT)
    assert service.process.wait(60) == 0
    assert not [name for name, pid in pids.items() if pid and alive(pid)], service.log()[-3000:]
    assert not service.status_path.exists()
    assert "run: stopped redis" in service.log()
