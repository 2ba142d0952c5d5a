"""Helpers for tests that talk to the API."""

from __future__ import annotations

import time


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
