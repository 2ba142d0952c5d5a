"""Redis through Sentinel: the primary killed (SIGKILL) in the middle of a 40-block job. The
sentinels promote the replica; meanwhile the API answers 503 with Retry-After (never 500);
the job completes with every block made once (the simulator counts each provider call), no
account slot left taken, and nothing acknowledged lost."""

from __future__ import annotations

import time

import pytest

from tests.helpers import bearer
from tests.redis_sentinels import MASTER, SentinelCluster
from tests.worker_process import WorkerProcess
from utils.names import done_key, leases_key

pytestmark = pytest.mark.pipeline

N_BLOCKS = 40


def test_a_job_survives_losing_its_redis_primary(simulator, session_dir, request):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from config import Settings
    from utils.auth.users import UserStore
    from utils.redis_client import connect

    cluster = SentinelCluster(session_dir / "sentinels").start()
    env = {"REDIS_URL": cluster.url, "REDIS_SENTINEL_MASTER": MASTER}
    settings = Settings(**env)
    store = connect(cluster.url, 60, sentinel=settings.sentinel)
    UserStore(store).set_password("alice", "alice-password")
    worker = WorkerProcess(
        session_dir / f"{request.node.name}.log", env, concurrency=8, pool="threads"
    )
    try:
        worker.start().wait_ready()
        simulator.knobs(latency_ms=250)
        texts = [f"Block {i} of the failover job." for i in range(N_BLOCKS)]
        blocks = [{"text": t, "provider": "openai", "voice": "nova"} for t in texts]
        with TestClient(create_app(settings)) as app:
            alice = bearer(app, "alice")
            accepted = app.post("/tts", headers=alice, json={"blocks": blocks})
            assert accepted.status_code == 202, accepted.text
            job_id = accepted.json()["job_id"]

            answers: list[tuple[float, int, str | None]] = []
            killed_at = promoted_at = None
            deadline = time.monotonic() + 120
            while True:
                assert time.monotonic() < deadline, answers[-5:]
                response = app.get(f"/status/{job_id}", headers=alice)
                now = time.monotonic()
                answers.append((now, response.status_code, response.headers.get("retry-after")))
                body = response.json() if response.status_code == 200 else {}
                if killed_at is None and body and int(body["progress"].split("/")[0]) >= 8:
                    cluster.kill("primary")
                    killed_at = time.monotonic()
                if (
                    killed_at
                    and promoted_at is None
                    and cluster.master_port() == cluster.replica_port
                ):
                    promoted_at = time.monotonic()
                if body.get("status") in ("completed", "failed"):
                    break
                time.sleep(0.05)
            assert body["status"] == "completed", body
            audio = app.get(f"/result/{job_id}/audio", headers=alice)
            assert audio.status_code == 200 and len(audio.content) > 10_000
        done = store.scard(done_key(job_id))
        leases = store.zcard(leases_key("openai"))
    finally:
        worker.stop()
        store.close()
        cluster.stop()

    during = [(t, code, retry) for t, code, retry in answers if t >= killed_at]
    codes = sorted({code for _, code, _ in during})
    unavailable = [t for t, code, _ in during if code == 503]
    calls = [r["text"] for r in simulator.stats()["recent"]]
    twice = [t for t in texts if calls.count(t) > 1]
    print(
        f"\nprimary killed; sentinels named the replica primary after "
        f"{promoted_at - killed_at:.2f} s; API answers after the kill: "
        f"{ {c: [x for _, x, _ in during].count(c) for c in codes} }, 503 for "
        f"{(unavailable[-1] - killed_at) if unavailable else 0:.2f} s; blocks made twice: "
        f"{len(twice)}"
    )
    assert set(codes) <= {200, 503}  # never a 500
    assert all(retry for _, code, retry in during if code == 503)  # Retry-After on each 503
    assert promoted_at - killed_at < 15
    assert done == N_BLOCKS and leases == 0
    assert [calls.count(t) for t in texts] == [1] * N_BLOCKS, twice
