"""The API and two workers as if on three machines: separate processes, each with a DATA_DIR and
a TEMP_DIR of its own, sharing nothing but Redis and the S3 bucket (moto's server on loopback).
One job's blocks are made on both workers and combined on one of them; the result's URLs are
presigned S3 URLs of audio that decodes, and the API, which never sees the workers' disks,
serves it too (Range included). One worker start-up serves an MP3 job and a FLAC job (whose
blocks' PCM also goes through the bucket), as starting workers is most of the time here."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import redis

from tests.audio_helpers import decode, ffmpeg_decode
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
    bucket = s3_server.new_bucket()
    shared = {"REDIS_URL": url, **s3_server.env(bucket)}
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
            yield api, bearer(api, "alice"), workers, client, root, f"{s3_server.url}/{bucket}"
    finally:
        for worker in workers:
            worker.stop()
        client.close()


def submit(app, headers, blocks, output_format):
    body = {"blocks": blocks, "output_format": output_format}
    response = app.post("/tts", headers=headers, json=body)
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def test_jobs_made_on_two_machines_sharing_only_redis_and_s3(three_machines, simulator):
    app, alice, workers, client, root, bucket_url = three_machines
    simulator.knobs(latency_ms=300)  # each cloud block takes a while: both workers get some
    blocks = [
        {"text": f"Part {i} of the job.", "provider": "openai", "voice": "nova"} for i in range(5)
    ] + [{"text": "And one in the local voice."}]
    mp3_job = submit(app, alice, blocks, "mp3_24000_64")
    flac_job = submit(app, alice, blocks[:2], "flac_24000")
    for job_id in (mp3_job, flac_job):
        assert wait_for_job(app, job_id, alice)["status"] == "completed"

    # every block names the process that made it; those processes belong to both workers
    made_by = {client.hget(block_key(mp3_job, i), "worker") for i in range(len(blocks))}
    pids = {int(worker.rpartition(":")[2]) for worker in made_by}
    machines = {parent_pid(pid) for pid in pids}
    assert machines == {w.process.pid for w in workers}, made_by

    # the result's URLs are presigned GETs of private objects, for an hour
    result = app.get(f"/result/{mp3_job}", headers=alice).json()
    assert result["url"].startswith(f"{bucket_url}/tts/jobs/{mp3_job}/final.mp3?")
    query = parse_qs(urlsplit(result["url"]).query)
    assert query["X-Amz-Expires"] == ["3600"] and "X-Amz-Signature" in query
    for block in result["blocks"]:
        name = f"tts/jobs/{mp3_job}/block_{block['index']:04d}.mp3?"
        assert block["url"].startswith(f"{bucket_url}/{name}")
    assert httpx.get(result["url"].partition("?")[0]).status_code == 403  # unsigned: refused
    final = httpx.get(result["url"])
    assert final.status_code == 200 and final.headers["content-type"] == "audio/mpeg"
    samples = decode(final.content, 24000)
    assert samples.size / 24000 * 1000 == pytest.approx(result["duration_ms"], abs=1)
    assert abs(samples.astype(int)).max() > 1000  # speech, not silence
    # the API streams the same bytes from the bucket, and answers Range from it
    assert app.get(f"/result/{mp3_job}/audio", headers=alice).content == final.content
    part = app.get(f"/result/{mp3_job}/audio", headers={**alice, "Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == final.content[100:1100]

    result = app.get(f"/result/{flac_job}", headers=alice).json()
    audio = app.get(f"/result/{flac_job}/audio", headers=alice)
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
    from workers.synthesis import synthesize_block

    monkeypatch.setattr(tasks, "worker_context", lambda: ctx)
    job_id = new_job(ctx, "made here", "made on another machine")
    for index in range(2):
        synthesize_block(ctx, job_id, index)
    ctx.storage.local_path(block_audio_key(job_id, 1)).unlink()  # on the other machine's disk
    tasks.combine_blocks(job_id)
    job = ctx.jobs.get(job_id)
    assert job.status == JobStatus.FAILED
    assert job.error.startswith(f"jobs/{job_id}/block_0001.mp3 is not in storage: block 1 ")
    assert (
        "was made by worker " in job.error and "every worker needs the API's storage" in job.error
    )
