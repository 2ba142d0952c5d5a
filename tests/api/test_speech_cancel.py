"""A speech request (POST /v1/audio/speech) is a job: a client that leaves before the audio
ends cancels it, so the workers stop making pieces nobody will hear; one that reads to the end
leaves its job completed."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.helpers import served

pytestmark = pytest.mark.pipeline

LONG = " ".join(f"This is sentence number {i} of a long reading." for i in range(80))


@pytest.fixture
def speech_url(service_redis, users, worker):
    from api.main import create_app
    from config import Settings

    with served(create_app(Settings(SPEECH_PIECE_CHARS=80))) as url:
        yield url


def status_when(url: str, headers: dict, job_id: str, done, timeout_s: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = httpx.get(f"{url}/status/{job_id}", headers=headers, timeout=10).json()
        if done(status):
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id}: {status}")


def test_a_client_that_leaves_cancels_its_speech_job(speech_url):
    token = httpx.post(
        f"{speech_url}/token", data={"username": "alice", "password": "alice-password"}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = {"model": "tts-1", "voice": "alloy", "input": LONG, "response_format": "mp3"}
    url = f"{speech_url}/v1/audio/speech"
    client = httpx.Client(timeout=60)
    with client, client.stream("POST", url, json=body, headers=headers) as r:
        assert r.status_code == 200
        job_id = r.headers["x-job-id"]
        assert next(r.iter_bytes())
        # the response is closed with most of the audio unread

    status = status_when(speech_url, headers, job_id, lambda s: s["status"] != "processing")
    assert status["status"] == "cancelled"
    n_blocks = len(status["blocks"])
    assert n_blocks > 30
    time.sleep(2)  # blocks in flight at the cancel end
    final = status_when(speech_url, headers, job_id, lambda s: True)
    made = sum(b["status"] == "completed" for b in final["blocks"])
    assert made < n_blocks // 2, final["progress"]

    # read to its end, a request's job completes as before
    short = {**body, "input": "Two sentences, read whole. Then the end."}
    response = httpx.post(f"{speech_url}/v1/audio/speech", json=short, headers=headers, timeout=60)
    assert response.status_code == 200 and response.content
    job_id = response.headers["x-job-id"]
    done = status_when(speech_url, headers, job_id, lambda s: s["status"] != "processing")
    assert done["status"] == "completed"
