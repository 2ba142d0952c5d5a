"""Probes, request ids and the API's metrics, with no worker and with Redis gone."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from config import Settings
from utils.embedded_redis import free_port


@pytest.fixture
def without_redis():
    """An API whose Redis is a port where nothing listens."""
    # No ADMIN_PASSWORD: creating the admin user at start would need Redis.
    settings = Settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", ADMIN_PASSWORD="")
    with TestClient(create_app(settings)) as client:
        yield client


def test_live_answers_without_redis(without_redis):
    answer = without_redis.get("/live")
    assert answer.status_code == 200 and answer.json() == {"status": "alive"}


def test_ready_and_health_name_redis_when_it_is_gone(without_redis):
    ready = without_redis.get("/ready")
    assert ready.status_code == 503
    body = ready.json()
    assert "redis" in body["failing"] and "broker" in body["failing"]
    assert body["checks"]["redis"]["detail"].startswith("Redis does not answer")
    assert body["checks"]["storage"]["ok"]  # local storage is still writable
    assert "127.0.0.1" not in ready.text  # what failed, in words: never the URL
    health = without_redis.get("/health")
    assert health.status_code == 503 and health.json()["status"] == "unavailable"


def test_a_sane_request_id_comes_back_and_any_other_is_replaced(app):
    assert app.get("/live", headers={"X-Request-ID": "abc-123.4"}).headers["x-request-id"] == (
        "abc-123.4"
    )
    for insane in ("bad id with spaces", "x" * 200, 'quote"d'):
        returned = app.get("/live", headers={"X-Request-ID": insane}).headers["x-request-id"]
        assert returned != insane and len(returned) == 32
    first, second = (app.get("/live").headers["x-request-id"] for _ in range(2))
    assert first != second


def test_requests_are_counted_by_route_template_not_path(app, alice):
    job_id = str(uuid.uuid4())
    assert app.get(f"/status/{job_id}", headers=alice).status_code == 404
    app.get("/no/such/route")
    text = app.get("/metrics").text
    assert 'route="/status/{job_id}",status="404"' in text
    assert 'route="unmatched",status="404"' in text
    assert job_id not in text and "/no/such/route" not in text
