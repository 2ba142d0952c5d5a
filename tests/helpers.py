"""Helpers for tests that talk to the API."""

from __future__ import annotations

import contextlib
import threading
import time

from prometheus_client.parser import text_string_to_metric_families


def bearer(client, username: str) -> dict[str, str]:
    response = client.post(
        "/token", data={"username": username, "password": f"{username}-password"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def wait_for_job(client, job_id: str, headers, timeout_s: float = 90.0) -> dict:
    """Poll the status endpoint until the job finishes; the last status body."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = client.get(f"/status/{job_id}", headers=headers)
        body = response.json()
        if response.status_code == 200 and body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s} s: {body}")


def create_job_behind_the_api(client, owner: str, specs) -> str:
    """Write a job straight into Redis, skipping the API's checks and its task: for jobs the
    API would refuse, or whose tasks are to be "lost"."""
    import uuid

    from utils.jobs.store import JobStore

    job_id = str(uuid.uuid4())
    JobStore(client, 3600).create(job_id, owner, "mp3_24000_64", specs)
    return job_id


def completed_job_behind_the_api(client, storage, owner: str, n_blocks: int = 2) -> str:
    """A completed job written straight into Redis and storage, as the workers would leave
    it, with real MP3 frames (silence) for each block and the final audio: for tests of the
    audio endpoints that need no synthesis."""
    from utils.audio.formats import OutputFormat
    from utils.audio.mp3_frames import silence_frame
    from utils.jobs.models import BlockSpec
    from utils.jobs.store import JobStore
    from utils.storage.keys import block_audio_key, final_audio_key

    fmt = OutputFormat.parse("mp3_24000_64")
    spec = BlockSpec("Hello.", "piper", "en_US-joe-medium")
    job_id = create_job_behind_the_api(client, owner, [spec] * n_blocks)
    jobs = JobStore(client, 3600)
    job = jobs.get(job_id)
    frame_ms = fmt.samples_per_frame * 1000 // fmt.sample_rate
    audio = []
    for index in range(n_blocks):
        key, n_frames = block_audio_key(job_id, index), 10 + index  # each block its own length
        audio.append(silence_frame(fmt) * n_frames)
        storage.put_bytes(key, audio[-1])
        result = {"storage_key": key, "n_frames": n_frames, "n_samples": n_frames * 576}
        jobs.finish_block(job, index, {**result, "duration_ms": n_frames * frame_ms})
    offsets = [(i * 1000, i * 1000 + (10 + i) * frame_ms) for i in range(n_blocks)]
    storage.put_bytes(final_audio_key(job_id), b"".join(audio))
    jobs.complete(job, final_audio_key(job_id), n_blocks * 1000, offsets)
    return job_id


@contextlib.contextmanager
def access_log_on():
    """uvicorn's access logger as a real `uvicorn` process leaves it: at INFO, reaching the
    root handler. (The simulator's in-process server turns it off for the whole process.)"""
    import logging

    logger = logging.getLogger("uvicorn.access")
    saved = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = True
    try:
        yield
    finally:
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


@contextlib.contextmanager
def served(app, tls: tuple | None = None):
    """`app` under a real uvicorn on loopback (streaming responses really stream); its URL.
    `tls`: (certificate file, key file) to serve https."""
    import uvicorn

    from utils.embedded_redis import free_port

    port = free_port()
    certificate = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])} if tls else {}
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, **certificate)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a Prometheus text exposition: (name, labels) -> value."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)
