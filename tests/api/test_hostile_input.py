"""Rate limits, body size, unexpected errors, and a service that will not start insecurely."""

import logging
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from api.deps import get_jobs
from config import PROJECT_ROOT, Settings, get_settings


def test_token_guessing_is_rate_limited_per_address(app, users):
    limit = int(get_settings().rate_limit.token.split("/")[0])
    codes = [
        app.post("/token", data={"username": "alice", "password": "guess"}).status_code
        for _ in range(limit + 1)
    ]
    assert codes == [401] * limit + [429]
    last = app.post("/token", data={"username": "alice", "password": "alice-password"})
    assert last.status_code == 429  # even the right password, until the window passes
    assert 0 < int(last.headers["retry-after"]) <= 60
    assert "rate limit exceeded" in last.json()["detail"]


def client_with(**overrides) -> TestClient:
    from api.main import create_app

    return TestClient(create_app(Settings(**overrides)))


def test_submissions_are_rate_limited_per_user(service_redis, alice, bob):
    job = {"blocks": [{"text": "Hi."}]}
    with client_with(RATE_LIMIT_SUBMIT="2/minute") as app:
        codes = [app.post("/tts", headers=alice, json=job).status_code for _ in range(3)]
        assert codes == [202, 202, 429]
        assert app.post("/tts", headers=bob, json=job).status_code == 202  # bob's own count


def test_each_app_keeps_the_limits_it_was_built_with(service_redis, alice):
    job = {"blocks": [{"text": "Hi."}]}
    with (
        client_with(RATE_LIMIT_SUBMIT="1/minute") as strict,
        client_with(RATE_LIMIT_ENABLED=False) as unlimited,
    ):
        assert [strict.post("/tts", headers=alice, json=job).status_code for _ in range(2)] == [
            202,
            429,
        ]
        codes = {unlimited.post("/tts", headers=alice, json=job).status_code for _ in range(5)}
        assert codes == {202}


def test_an_oversized_body_is_refused_before_it_is_read(app, alice):
    size = get_settings().MAX_BODY_BYTES + 1
    body = b'{"blocks": [{"text": "' + b"a" * size + b'"}]}'
    response = app.post("/tts", headers={**alice, "Content-Type": "application/json"}, content=body)
    assert response.status_code == 413

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"blocks": [{"text": "'
        for _ in range(size // 65536 + 1):
            yield b"a" * 65536
        yield b'"}]}'

    response = app.post(
        "/tts", headers={**alice, "Content-Type": "application/json"}, content=chunks()
    )
    assert response.status_code == 413


def test_an_unexpected_error_is_a_generic_500_with_a_request_id(users, service_redis, caplog):
    from api.main import create_app

    app = create_app()

    def broken():
        raise RuntimeError("connection string postgres://user:hunter2@db")

    app.dependency_overrides[get_jobs] = broken
    with TestClient(app, raise_server_exceptions=False) as client:
        token = client.post("/token", data={"username": "alice", "password": "alice-password"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        with caplog.at_level(logging.ERROR, logger="api"):
            response = client.get("/status/8a1b6d3e-5c52-4c1e-9a4e-3f1c2b7d9e10", headers=headers)
    assert response.status_code == 500
    body = response.json()
    assert body["detail"] == "internal error" and len(body["request_id"]) == 32
    assert body["request_id"] == response.headers["X-Request-ID"]  # one id to quote
    assert "hunter2" not in response.text
    assert body["request_id"] in caplog.text and "hunter2" in caplog.text  # details: log only


def test_the_service_refuses_to_start_in_production_with_a_weak_secret():
    env = {**os.environ, "ENVIRONMENT": "production", "SECRET_KEY": "changethis"}
    result = subprocess.run(
        [sys.executable, "-c", "import api.main"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be a random value of at least 32 characters" in result.stderr
    assert "changethis" not in result.stderr


def test_a_limit_is_shared_by_every_api_process_on_the_same_redis(service_redis, alice):
    """Two apps stand for two API processes: the count lives in Redis, not in either one."""
    job = {"blocks": [{"text": "Hi."}]}
    with (
        client_with(RATE_LIMIT_SUBMIT="2/minute") as first,
        client_with(RATE_LIMIT_SUBMIT="2/minute") as second,
    ):
        assert first.post("/tts", headers=alice, json=job).status_code == 202
        assert second.post("/tts", headers=alice, json=job).status_code == 202
        assert first.post("/tts", headers=alice, json=job).status_code == 429
        assert second.post("/tts", headers=alice, json=job).status_code == 429


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"blocks": [{"text": "caf\xe9"}]}', "is not UTF-8 text (byte 25)"),
        (b"[" * 100_000 + b"]" * 100_000, "nests lists or objects too deeply"),
    ],
)
def test_a_body_json_cannot_read_is_a_422_in_the_usual_shape(app, alice, body, words):
    response = app.post("/tts", headers={**alice, "Content-Type": "application/json"}, content=body)
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["field"] == "body" and problem["loc"] == ["body"]
    assert words in problem["msg"] and problem["msg"].startswith("body: invalid JSON")
    # and the API answers on
    assert app.get("/live").status_code == 200
