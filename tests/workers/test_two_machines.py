"""The API and two workers as if on three machines: separate processes, each with a DATA_DIR and
a TEMP_DIR of its own, sharing nothing but Redis and the S3 bucket (moto's server on loopback).
One job's blocks are made on both workers, combined on one of them, and the API, which never
sees their disks, serves audio that decodes."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from tests.audio_helpers import ffmpeg_decode
from tests.helpers import bearer, wait_for_job
from tests.worker_process import WorkerProcess
from utils.names import block_key

pytestmark = pytest.mark.pipeline

DB = 12


def machine_env(root: Path, name: str) -> dict[str, str]:
    return {"DATA_DIR": str(root / name / "data"), "TEMP_DIR": str(root / name / "temp")}


def parent_pid(pid: int) -> int:
    # /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ")"
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


@pytest.fixture
def three_machines(redis_server, simulator, s3_server, session_dir, request):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from config import Settings
    from utils.auth.users import UserStore

    root = session_dir / "machines"
    url = f"redis://127.0.0.1:{redis_server.port}/{DB}"
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    UserStore(client).set_password("alice", "alice-password")
    shared = {"REDIS_URL": url, **s3_server.env(s3_server.new_bucket())}
    workers = [
        WorkerProcess(
            session_dir / f"{request.node.name}-{name}.log",
            {**shared, **machine_env(root, name)},
            concurrency=1,  # one block at a time each: neither can take the whole job
            name=name,
        ).start()
        for name in ("machine-a", "machine-b")
    ]
    try:
        for worker in workers:
            worker.wait_ready()
        api = TestClient(create_app(Settings(**shared, **machine_env(root, "api"))))
        with api:
            yield api, bearer(api, "alice"), workers, client, root
    finally:
        for worker in workers:
            worker.stop()
        client.close()


def test_one_job_made_on_two_machines_sharing_only_redis_and_s3(three_machines, simulator):
    app, alice, workers, client, root = three_machines
    simulator.knobs(latency_ms=300)  # each cloud block takes a while: both workers get some
    blocks = [
        {"text": f"Part {i} of the job.", "provider": "openai", "voice": "nova"} for i in range(5)
    ] + [{"text": "And one in the local voice."}]
    response = app.post(
        "/tts", headers=alice, json={"blocks": blocks, "output_format": "flac_24000"}
    )
    job_id = response.json()["job_id"]
    assert wait_for_job(app, job_id, alice)["status"] == "completed"

    # every block names the process that made it; those processes belong to both workers
    made_by = {client.hget(block_key(job_id, i), "worker") for i in range(len(blocks))}
    pids = {int(worker.rpartition(":")[2]) for worker in made_by}
    machines = {parent_pid(pid) for pid in pids}
    assert machines == {w.process.pid for w in workers}, made_by

    result = app.get(f"/result/{job_id}", headers=alice).json()
    audio = app.get(f"/result/{job_id}/audio", headers=alice)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/flac"
    samples = ffmpeg_decode(audio.content, 24000)
    assert samples.size / 24000 * 1000 == pytest.approx(result["duration_ms"], abs=1)
    assert abs(samples.astype(int)).max() > 1000
    # no machine's disk holds audio: blocks went to the bucket, scratch files were removed
    audio_files = [p for p in root.rglob("*") if p.suffix in (".mp3", ".flac", ".pcm")]
    assert audio_files == []


def test_blocks_on_another_machines_disk_fail_the_job_naming_the_fix(ctx, monkeypatch):
    """Local storage across machines: the combine finds a block missing from its own disk."""
    from tests.workers.fakes import new_job
    from utils.jobs.models import JobStatus
    from utils.storage.keys import block_audio_key
    from workers import tasks

    monkeypatch.setattr(tasks, "worker_context", lambda: ctx)
    job_id = new_job(ctx, "made here", "made on another machine")
    for index in range(2):
        tasks.synthesize_block(ctx, job_id, index)
    ctx.storage.local_path(block_audio_key(job_id, 1)).unlink()  # on the other machine's disk
    tasks.combine_blocks(job_id)
    job = ctx.jobs.get(job_id)
    assert job.status == JobStatus.FAILED
    assert job.error == (
        f"jobs/{job_id}/block_0001.mp3 is not in storage: a block's audio is not where the "
        "combine ran; workers on more than one machine need shared storage "
        "(STORAGE_BACKEND=s3 or cloudinary)"
    )
