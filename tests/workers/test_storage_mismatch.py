"""A worker whose storage is not the API's: it refuses to start naming itself and both
storages; one already running shows in /ready and takes no work (other workers make its blocks);
the combine names it; its blocks' audio is not called purged; a retry makes them again."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest
import redis

from tests.helpers import wait_for_job
from tests.worker_process import WorkerProcess
from utils.jobs.shared_storage import missing_block_reason
from utils.names import job_key, local_workers_key, worker_heartbeat_key
from utils.storage.identity import StorageIdentity

pytestmark = pytest.mark.pipeline

DB = 14


def test_a_worker_on_other_storage_than_the_api_s_refuses_to_start(
    redis_server, s3_server, session_dir, tmp_path
):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from config import Settings

    url = f"redis://127.0.0.1:{redis_server.port}/{DB}"
    redis.Redis.from_url(url).flushdb()
    s3 = s3_server.env(s3_server.new_bucket())
    with TestClient(create_app(Settings(REDIS_URL=url, **s3))):
        worker = WorkerProcess(
            session_dir / "other-storage.log",
            {"REDIS_URL": url, "STORAGE_BACKEND": "local", "DATA_DIR": str(tmp_path / "data")},
            concurrency=1,
        ).start()
        try:
            assert worker.process.wait(60) != 0
        finally:
            worker.stop()
    log = worker.log_path.read_text()
    line = next(line for line in log.splitlines() if "refusing to start" in line)
    assert f"worker {socket.gethostname()}:" in line
    assert f"stores to local {tmp_path / 'data' / 'audio'} on {socket.gethostname()}" in line
    assert f"the API serves from s3 {s3['S3_ENDPOINT_URL']} bucket {s3['S3_BUCKET']}" in line
    assert s3["S3_SECRET_ACCESS_KEY"] not in log


def test_a_running_worker_takes_no_work_once_the_api_announces_other_storage(
    redis_server, session_dir, tmp_path
):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from config import Settings
    from utils.auth.users import UserStore
    from utils.jobs.shared_storage import announce_api_storage
    from utils.storage.identity import storage_identity

    url = f"redis://127.0.0.1:{redis_server.port}/{DB}"
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()  # no API has announced its storage: the stray worker starts
    UserStore(client).set_password("alice", "alice-password")
    elsewhere = {"REDIS_URL": url, "DATA_DIR": str(tmp_path / "elsewhere")}
    stray = WorkerProcess(session_dir / "stray-storage.log", elsewhere, concurrency=1, name="s")
    stray.start().wait_ready()
    good = None
    try:
        with TestClient(create_app(Settings(REDIS_URL=url, DATA_DIR=tmp_path / "api"))) as app:
            wait_for_line(stray, "taking no work")
            token = app.post("/token", data={"username": "alice", "password": "alice-password"})
            alice = {"Authorization": f"Bearer {token.json()['access_token']}"}
            blocks = [{"text": "Made where the API can read it."}]
            job_id = app.post("/tts", headers=alice, json={"blocks": blocks}).json()["job_id"]
            time.sleep(3)  # the stray worker would have made it by now
            assert app.get(f"/status/{job_id}", headers=alice).json()["status"] == "queued"

            good = WorkerProcess(
                session_dir / "api-storage.log",
                {"REDIS_URL": url, "DATA_DIR": str(tmp_path / "api")},
                concurrency=1,
                name="good",
            )
            good.start().wait_ready()
            done = wait_for_job(app, job_id, alice, timeout_s=60)
            assert done["status"] == "completed", done
            assert done["blocks"][0]["worker"] != f"{socket.gethostname()}:{stray.process.pid}"
            audio = app.get(f"/result/{job_id}/audio", headers=alice)
            assert audio.status_code == 200 and len(audio.content) > 1000

            # the API announces the stray's storage (as if started again with its settings)
            theirs = storage_identity(Settings(**{"DATA_DIR": tmp_path / "elsewhere"}).storage)
            announce_api_storage(client, theirs)
            wait_for_line(stray, "storage shared with the API again")
    finally:
        for worker in (good, stray):
            if worker is not None:
                worker.stop()
    lines = stray.log_path.read_text().splitlines()
    line = next(line for line in lines if "taking no work" in line)
    assert f"stores to local {tmp_path / 'elsewhere' / 'audio'}" in line
    assert f"the API serves from local {tmp_path / 'api' / 'audio'}" in line
    client.close()


def wait_for_line(worker: WorkerProcess, text: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in worker.log_path.read_text():
        assert time.monotonic() < deadline, f"no {text!r} in {worker.log_path}"
        time.sleep(0.2)


def test_a_process_on_other_storage_refuses_a_block_it_was_given_and_starts_no_handed_one():
    """A block task already taken when the API's storage changes (workers/tasks.py) and a
    freed slot's next block (workers/direct_handoff.py) ask `refusal_here`, from memory."""
    from utils.jobs.liveness import Heartbeat
    from utils.jobs.shared_storage import refusal_here
    from workers import direct_handoff

    mine = StorageIdentity("local:a", "local /a on here")
    before = (Heartbeat.storage, Heartbeat.api_storage)
    started: list[tuple] = []
    direct_handoff.serve(lambda *block: started.append(block), 1)
    try:
        Heartbeat.storage = mine.as_dict()
        Heartbeat.api_storage = json.dumps(mine.as_dict())
        assert refusal_here() is None
        Heartbeat.api_storage = json.dumps(StorageIdentity("s3:b", "s3 bucket b").as_dict())
        assert "the API serves from s3 bucket b" in refusal_here()
        assert direct_handoff.start_here("job", 0, "tts.blocks.network") is False
        Heartbeat.api_storage = None  # nothing announced: nothing refused
        assert refusal_here() is None
        assert direct_handoff.start_here("job", 1, "tts.blocks.network") is True
    finally:
        direct_handoff.stop()
        Heartbeat.storage, Heartbeat.api_storage = before
    assert started == [("job", 1, "tts.blocks.network")]


def beat_with_storage(client, worker: str, identity: StorageIdentity) -> None:
    value = json.dumps({"stamp": "", "storage": identity.as_dict()})
    client.set(worker_heartbeat_key(worker), value, ex=30)
    client.zadd(local_workers_key(), {worker: time.time() + 30})


def test_ready_names_a_running_worker_on_other_storage(redis_server, session_dir):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from config import Settings

    url = f"redis://127.0.0.1:{redis_server.port}/{DB}"
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    with TestClient(create_app(Settings(REDIS_URL=url))) as app:
        other = StorageIdentity("local:elsewhere", "local /srv/data/audio on other-host")
        beat_with_storage(client, "other-host:4242", other)
        body = app.get("/ready").json()
        assert app.get("/ready").status_code == 503 and body["failing"] == ["workers"]
        detail = body["checks"]["workers"]["detail"]
        assert "worker other-host:4242 stores to local /srv/data/audio on other-host" in detail
        assert "this API serves from local " in detail
        assert app.get("/health").json()["status"] == "degraded"
    client.close()


def test_the_combine_names_the_worker_that_did_not_share_storage(ctx):
    from tests.workers.fakes import new_job
    from utils.names import block_key

    job_id = new_job(ctx, "made elsewhere")
    ctx.redis.hset(block_key(job_id, 0), "worker", "other-host:4242")
    beat_with_storage(ctx.redis, "other-host:4242", StorageIdentity("local:x", "local /x on b"))
    here = StorageIdentity("s3:bucket", "s3 http://s3 bucket b prefix tts")
    reason = missing_block_reason(ctx.redis, job_id, f"jobs/{job_id}/block_0000.mp3", here)
    assert reason == (
        f"jobs/{job_id}/block_0000.mp3 is not in storage: block 0 was made by worker "
        "other-host:4242, whose storage (local /x on b) is not this one's (s3 http://s3 bucket "
        "b prefix tts); every worker needs the API's storage (STORAGE_BACKEND=s3 or "
        "cloudinary across machines)"
    )


def test_a_block_never_stored_here_is_not_purged_and_a_retry_makes_it_again(
    app, alice, worker, service_redis
):
    from utils.jobs.store import JobStore

    blocks = [{"text": "Kept where it was made."}, {"text": "Stored on another disk."}]
    job_id = app.post("/tts", headers=alice, json={"blocks": blocks}).json()["job_id"]
    done = wait_for_job(app, job_id, alice)
    assert done["status"] == "completed"
    made_by = done["blocks"][1]["worker"]
    assert made_by.rpartition(":")[2].isdigit()  # host:pid, shown by /status
    # as if its worker had stored it on its own disk: this service's storage never had it
    store = JobStore(service_redis, 3600)
    os.unlink(app.app.state.storage.local_path(store.get(job_id).blocks[1].storage_key))
    missing = app.get(f"/result/{job_id}/block/1/audio", headers=alice)
    assert missing.status_code == 404
    assert "purged" not in missing.json()["detail"]
    assert f"made by worker {made_by}" in missing.json()["detail"]

    # failed as its combine would have failed it (the job was combined before the loss here)
    service_redis.hset(job_key(job_id), mapping={"status": "failed", "error": "block 1 unread"})
    retried = app.post(f"/tts/{job_id}/retry", headers=alice)
    assert retried.status_code in (200, 202), retried.text
    assert retried.json()["retried_blocks"] == [1]  # unreadable: made again, not reused
    status = wait_for_job(app, job_id, alice)
    assert status["status"] == "completed", status
    audio = app.get(f"/result/{job_id}/block/1/audio", headers=alice)
    assert audio.status_code == 200 and len(audio.content) > 1000
