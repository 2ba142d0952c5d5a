"""Under load: 100 clients submit and poll for 60 s against a real uvicorn server on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time

import httpx
import pytest
import redis

from bench.load import run_load
from config import PROJECT_ROOT
from scripts.commands import api_command
from tests.worker_process import WorkerProcess
from utils.auth.users import UserStore
from utils.embedded_redis import free_port

pytestmark = pytest.mark.pipeline

LOAD_DB = 6
CLIENTS = 100
DURATION_S = 60


@pytest.fixture
def loaded_service(redis_server, simulator, session_dir):
    url = f"redis://127.0.0.1:{redis_server.port}/{LOAD_DB}"
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    UserStore(client).set_password("loader", "loader-password")
    env = {**os.environ, "REDIS_URL": url, "RATE_LIMIT_SUBMIT": "1000000/minute"}
    port = free_port()
    api = subprocess.Popen(
        api_command(port, workers=2, quiet=True),
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(session_dir / "load-api.log").open("wb"),
    )
    workers = [
        WorkerProcess(
            session_dir / f"load-worker-{i}.log", env, 16, "threads", name=f"load{i}"
        ).start()
        for i in range(2)
    ]
    try:
        for worker in workers:
            worker.wait_ready()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "API did not start"
            time.sleep(0.2)
        yield base
    finally:
        api.terminate()
        api.wait(20)
        for worker in workers:
            worker.stop()


def test_every_accepted_job_completes_under_load_with_no_5xx(loaded_service, simulator):
    simulator.knobs(latency_ms=50)
    token = httpx.post(
        f"{loaded_service}/token", data={"username": "loader", "password": "loader-password"}
    ).json()
    block = {
        "text": "A short sentence under load.",
        "provider": "bulk",
        "voice": "alloy",
        "wait_after_ms": 100,
    }
    result = asyncio.run(
        run_load(
            loaded_service,
            token["access_token"],
            CLIENTS,
            DURATION_S,
            {"blocks": [block, block]},
            drain_s=120,
        )
    )
    summary = result.summary()
    print("\nload test:", json.dumps(summary))
    assert summary["jobs_accepted"] >= CLIENTS
    assert summary["server_errors_5xx"] == 0
    assert summary["submits_rejected"] == {}
    assert summary["jobs_completed"] == summary["jobs_accepted"]
    assert summary["jobs_failed"] == summary["jobs_unfinished"] == 0
