"""Metrics, probes and log lines of a real service: an API, a real worker serving its metrics
on WORKER_METRICS_PORT, jobs through the simulated OpenAI API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import httpx
import pytest

from api.main import create_app
from config import PROJECT_ROOT, Settings
from tests.conftest import TEST_API_KEY
from tests.helpers import access_log_on, samples, served, value, wait_for_job
from utils.embedded_redis import free_port

pytestmark = pytest.mark.pipeline

OBSERVED_DB = 12
TEXTS = ["Metrics count this block.", "And this one.", "And the third."]


def submit(api, headers, request_id: str) -> str:
    blocks = [{"text": t, "provider": "openai"} for t in TEXTS]
    answer = api.post(
        "/tts", headers={**headers, "X-Request-ID": request_id}, json={"blocks": blocks}
    )
    assert answer.status_code == 202, answer.text
    assert answer.headers["x-request-id"] == request_id
    return answer.json()["job_id"]


def worker_alive(pool: str, redis_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scripts.worker_alive", pool],
        cwd=PROJECT_ROOT,
        env={**os.environ, "REDIS_URL": redis_url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_job_moves_the_metrics_and_its_request_id_is_on_every_line(
    isolated_service, redis_server, simulator, capsys
):
    port = free_port()
    redis_url = f"redis://127.0.0.1:{redis_server.port}/{OBSERVED_DB}"
    env = {"WORKER_METRICS_PORT": str(port), "LOG_FORMAT": "json"}
    api, alice = isolated_service(db=OBSERVED_DB, env=env, concurrency=1)
    worker_metrics = f"http://127.0.0.1:{port}/metrics"
    api_before = samples(api.get("/metrics").text)
    assert value(samples(httpx.get(worker_metrics).text), "tts_blocks_total") == 0

    first_id, second_id = f"first-{uuid.uuid4().hex}", f"second-{uuid.uuid4().hex}"
    simulator.fault(429, times=1, path="/v1/audio/speech", retry_after_s=0.2)  # one retry
    # The first job is sent to a real uvicorn, whose access line is the API's request line.
    api_settings = Settings(REDIS_URL=redis_url, LOG_FORMAT="json")
    with access_log_on(), served(create_app(api_settings)) as url:
        first_job = submit(httpx.Client(base_url=url), alice, first_id)
    assert wait_for_job(api, first_job, alice)["status"] == "completed"

    # The worker node: counted in its pool processes, served summed by its main process.
    scraped = samples(httpx.get(worker_metrics).text)
    assert value(scraped, "tts_blocks_total", provider="openai", outcome="completed") == 3
    assert (
        value(
            scraped,
            "tts_provider_request_duration_seconds_count",
            provider="openai",
            outcome="ok",
        )
        == 3
    )
    assert value(scraped, "tts_blocks_total", provider="openai", outcome="retried") == 1
    errors = {"provider": "openai", "outcome": "error"}
    assert value(scraped, "tts_provider_request_duration_seconds_count", **errors) == 1
    assert value(scraped, "tts_cache_lookups_total", result="miss") == 4  # the retry looks too
    assert value(scraped, "tts_jobs_total", outcome="completed") == 1
    assert value(scraped, "tts_combine_duration_seconds_count", family="mp3") == 1

    # The same blocks again: every one is found in the cache when the API accepts the job.
    assert wait_for_job(api, submit(api, alice, second_id), alice)["status"] == "completed"
    api_after = samples(api.get("/metrics").text)
    hits = ("tts_cache_lookups_total", {"result": "hit"})
    assert value(api_after, hits[0], **hits[1]) - value(api_before, hits[0], **hits[1]) == 3
    posted = {"method": "POST", "route": "/tts", "status": "202"}
    assert (
        value(api_after, "tts_http_requests_total", **posted)
        - value(api_before, "tts_http_requests_total", **posted)
        == 2
    )
    polled = {"method": "GET", "route": "/status/{job_id}", "status": "200"}
    assert value(api_after, "tts_http_requests_total", **polled) > 0
    assert not [k for k in api_after if first_job in str(k)]  # routes, never raw paths
    for queue in ("tts.blocks.local", "tts.blocks.network", "tts.control", "tts.maintenance"):
        assert ("tts_queue_depth", frozenset({"queue": queue}.items())) in api_after
    assert ("tts_account_slots_in_use", frozenset({"account": "openai"}.items())) in api_after

    # Probes: everything answers and a worker beats.
    ready = api.get("/ready")
    assert ready.status_code == 200, ready.json()
    assert set(ready.json()["checks"]) == {"redis", "broker", "storage", "workers"}
    health = api.get("/health").json()
    assert health["status"] == "ok" and all(c["ok"] for c in health["checks"].values())
    assert worker_alive("local", redis_url).returncode == 0  # its prefork processes beat
    assert worker_alive("network", redis_url).returncode == 1  # no thread pool runs here

    # Log lines: the API's (captured here) and the worker's (its log file), one request id.
    api_lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    posted_line = next(
        line
        for line in api_lines
        if line.get("request_id") == first_id and line.get("logger") == "uvicorn.access"
    )
    assert '"POST /tts' in posted_line["event"] and posted_line["status"] == 202
    assert posted_line["user"] == "alice" and posted_line["route"] == "/tts"
    assert "duration_ms" in posted_line
    worker_text = isolated_service.workers[0].log_path.read_text()
    worker_lines = [json.loads(line) for line in worker_text.splitlines() if line.startswith("{")]
    mine = [line for line in worker_lines if line.get("request_id") == first_id]
    tasks = {line.get("task") for line in mine}
    assert {"tts.dispatch_blocks", "tts.process_block", "tts.combine_blocks"} <= tasks
    calls = [line for line in mine if line["event"] == "provider call ok"]
    assert sorted(line["block"] for line in calls) == [0, 1, 2]
    assert all(line["provider"] == "openai" and line["job_id"] == first_job for line in calls)
    assert all(line["user"] == "alice" and "duration_ms" in line for line in calls)

    # No secret anywhere: not the bearer token, nor the provider's API key, nor a password.
    token = alice["Authorization"].removeprefix("Bearer ")
    everything = worker_text + "\n".join(json.dumps(line) for line in api_lines)
    for secret in (token, TEST_API_KEY, "alice-password"):
        assert secret not in everything


def test_without_a_worker_the_api_is_up_but_not_ready(isolated_service, redis_server):
    api, alice = isolated_service(db=OBSERVED_DB + 1, workers=0)
    answer = api.post("/tts", headers=alice, json={"blocks": [{"text": "Waits in line."}]})
    assert answer.status_code == 202

    ready = api.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["workers"]
    health = api.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    scraped = samples(api.get("/metrics").text)
    assert value(scraped, "tts_queue_depth", queue="tts.control") == 1  # the job's one message
    url = f"redis://127.0.0.1:{redis_server.port}/{OBSERVED_DB + 1}"
    alive = worker_alive("any", url)
    assert alive.returncode == 1 and "no worker process beats" in alive.stderr
