"""Through the API and a real worker: blocks on a user's own account, and jobs of blocks alone
downloaded as a zip."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from tests.audio_helpers import decode
from tests.conftest import SIMULATOR_URL
from tests.helpers import wait_for_job
from tests.inner_network import LoopbackServer

pytestmark = pytest.mark.pipeline

ALICES_KEY = "sk-alice-own-key-0123456789abcdef"


def key_tag(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def own_account(app, headers, concurrency=1, server_url=SIMULATOR_URL):
    body = {
        "name": "mine",
        "type": "openai",
        "api_key": ALICES_KEY,
        "base_url": f"{server_url}/v1",
        "concurrency": concurrency,
        "voices": ["alloy"],
    }
    response = app.post("/accounts", headers=headers, json=body)
    assert response.status_code == 201, response.text


def test_blocks_naming_an_own_account_run_on_it_under_its_own_limit(
    app, alice, bob, simulator, worker
):
    own_account(app, alice, concurrency=1)
    simulator.knobs(latency_ms=300)
    blocks = [{"text": f"On my own account, {i}.", "provider": "mine"} for i in range(3)]
    job_id = app.post("/tts", headers=alice, json={"blocks": blocks}).json()["job_id"]
    status = wait_for_job(app, job_id, alice)
    assert status["status"] == "completed", status
    assert [b["provider"] for b in status["blocks"]] == ["mine"] * 3
    calls = [r for r in simulator.stats()["recent"] if r["api"] == "openai"]
    assert [r["key_sha256"] for r in calls] == [key_tag(ALICES_KEY)] * 3  # her key, each time
    assert simulator.stats()["peak_in_flight"] == 1  # her account's limit, not the service's
    assert ALICES_KEY not in worker.log_path.read_text()

    refused = app.post("/tts", headers=bob, json={"blocks": blocks[:1]})  # not Bob's to use
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "blocks[0].provider"


def test_deleting_an_account_stops_its_use_at_once(app, alice, simulator, worker):
    own_account(app, alice, concurrency=1)
    simulator.knobs(latency_ms=1500)
    blocks = [{"text": f"Queued behind the first, {i}.", "provider": "mine"} for i in range(3)]
    job_id = app.post("/tts", headers=alice, json={"blocks": blocks}).json()["job_id"]
    assert app.delete("/accounts/mine", headers=alice).status_code == 204
    status = wait_for_job(app, job_id, alice)
    assert status["status"] == "failed" and "no longer exists" in status["error"], status
    assert simulator.stats()["tts_requests"] <= 1  # at most the call already under way
    later = app.post("/tts", headers=alice, json={"blocks": blocks[:1]})
    assert later.status_code == 422


def test_an_allowed_servers_error_reaches_its_owner_in_its_own_words(app, alice, simulator, worker):
    own_account(app, alice)  # 127.0.0.1: the session's USER_ACCOUNT_ALLOWED_HOSTS
    simulator.fault(400, message="voice 'alloy' is not loaded on this server")
    blocks = [{"text": "Said by my own server.", "provider": "mine"}]
    job_id = app.post("/tts", headers=alice, json={"blocks": blocks}).json()["job_id"]
    status = wait_for_job(app, job_id, alice)
    assert status["status"] == "failed", status
    assert "voice 'alloy' is not loaded on this server" in status["blocks"][0]["error"], status


def test_a_worker_refuses_a_host_the_operator_no_longer_allows(isolated_service):
    # The API (this process) allows 127.0.0.1; the worker's operator has since emptied the list:
    # the worker's own check, at connect time, decides.
    app, alice = isolated_service(db=4, env={"USER_ACCOUNT_ALLOWED_HOSTS": ""}, pool="threads")
    body = b'{"error": {"message": "inner-secret-words"}}'
    with LoopbackServer(status=400, body=body) as server:
        own_account(app, alice, server_url=server.url)
        blocks = [{"text": "Never sent.", "provider": "mine"}]
        job_id = app.post("/tts", headers=alice, json={"blocks": blocks}).json()["job_id"]
        status = wait_for_job(app, job_id, alice)
    assert status["status"] == "failed", status
    error = status["blocks"][0]["error"]
    assert "base_url: 127.0.0.1 is a loopback address" in error, status
    assert "inner-secret-words" not in str(status)
    assert server.connections == 0 and server.requests == []


def test_a_job_of_blocks_alone_completes_and_downloads_as_a_zip(app, alice, worker):
    blocks = [
        {"text": "The first lesson.", "id": "lesson-1"},
        {"text": "The second lesson.", "id": "lesson 2/b"},
        {"text": "An extra."},
    ]
    body = {"blocks": blocks, "combine": False}
    job_id = app.post("/tts", headers=alice, json=body).json()["job_id"]
    status = wait_for_job(app, job_id, alice)
    assert status["status"] == "completed", status
    assert [b.get("id") for b in status["blocks"]] == ["lesson-1", "lesson 2/b", None]

    result = app.get(f"/result/{job_id}", headers=alice).json()
    assert result["combined"] is False and result["url"] is None
    assert [b["id"] for b in result["blocks"]] == ["lesson-1", "lesson 2/b", None]
    assert app.get(f"/result/{job_id}/audio", headers=alice).status_code == 404

    response = app.get(result["zip_url"].removeprefix("http://testserver"), headers=alice)
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["0000-lesson-1.mp3", "0001-lesson_2_b.mp3", "0002-block.mp3"]
    for block, name in zip(result["blocks"], archive.namelist(), strict=True):
        samples = decode(archive.read(name), 24000)
        assert abs(samples.size / 24 - block["duration_ms"]) < 80  # encoder padding at most

    duplicate = {"blocks": [{"text": "a", "id": "x"}, {"text": "b", "id": "x"}]}
    response = app.post("/tts", headers=alice, json=duplicate)
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "blocks[1].id"
