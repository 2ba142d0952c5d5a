"""What a real uvicorn says when the API starts."""

from __future__ import annotations

import os
import subprocess
import time

import httpx

from config import PROJECT_ROOT
from scripts.commands import api_command
from utils.embedded_redis import free_port

STARTUP_DB = 8


def start_api_and_read_its_log(tmp_path, redis_server, **env) -> str:
    port = free_port()
    log_path = tmp_path / "api.log"
    redis_url = f"redis://127.0.0.1:{redis_server.port}/{STARTUP_DB}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            api_command(port),
            cwd=PROJECT_ROOT,
            env={**os.environ, "REDIS_URL": redis_url, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while "Application startup complete" not in log_path.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
    finally:
        process.terminate()
        process.wait(20)
    return log_path.read_text()


def test_without_an_admin_password_the_api_says_how_to_add_a_user(tmp_path, redis_server):
    # Empty means not set, and overrides any ADMIN_PASSWORD in the checkout's .env.
    log = start_api_and_read_its_log(tmp_path, redis_server, ADMIN_PASSWORD="")
    assert "ADMIN_PASSWORD is not set, so no admin user was created" in log
    assert "make add-user NAME=" in log


def test_with_an_admin_password_there_is_no_warning(tmp_path, redis_server):
    log = start_api_and_read_its_log(tmp_path, redis_server, ADMIN_PASSWORD="an-admin-password")
    assert "ADMIN_PASSWORD is not set" not in log
