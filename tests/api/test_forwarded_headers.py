"""X-Forwarded-For is believed only from proxies named in FORWARDED_ALLOW_IPS, against a real
uvicorn started with the run command's own command line."""

from __future__ import annotations

import os
import subprocess
import time

import httpx
import pytest
import redis

from config import PROJECT_ROOT
from scripts.commands import api_command
from utils.embedded_redis import free_port

FORWARDED_DB = 7  # its own database: the rate-limit counts start from nothing
TOKEN_LIMIT = 3


@pytest.fixture
def start_api(redis_server, tmp_path):
    started = []

    def start(forwarded_allow_ips: str) -> str:
        url = f"redis://127.0.0.1:{redis_server.port}/{FORWARDED_DB}"
        redis.Redis.from_url(url).flushdb()
        env = {**os.environ, "REDIS_URL": url, "RATE_LIMIT_TOKEN": f"{TOKEN_LIMIT}/minute"}
        # uvicorn reads FORWARDED_ALLOW_IPS from its environment too: make sure only the
        # command line decides.
        env.pop("FORWARDED_ALLOW_IPS", None)
        port = free_port()
        command = api_command(port, quiet=True, forwarded_allow_ips=forwarded_allow_ips)
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stderr=(tmp_path / "api.log").open("wb")
        )
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    return base
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "api.log").read_text()
            assert time.monotonic() < deadline, "API did not start"
            time.sleep(0.2)

    yield start
    for process in started:
        process.terminate()
        process.wait(20)


def token_statuses(base: str, n: int) -> list[int]:
    """POST /token n times from loopback, each claiming to come from another address."""
    return [
        httpx.post(
            f"{base}/token",
            data={"username": "nobody", "password": "wrong-password"},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        ).status_code
        for i in range(n)
    ]


def test_a_forged_forwarded_for_does_not_escape_the_token_limit(start_api):
    base = start_api(forwarded_allow_ips="")
    statuses = token_statuses(base, TOKEN_LIMIT + 2)
    assert statuses == [401] * TOKEN_LIMIT + [429, 429]


def test_a_proxy_named_in_configuration_is_believed(start_api):
    base = start_api(forwarded_allow_ips="127.0.0.1")
    # Each forwarded address is a client of its own, behind the trusted proxy.
    assert token_statuses(base, TOKEN_LIMIT + 2) == [401] * (TOKEN_LIMIT + 2)


def test_the_command_line_trusts_no_proxy_unless_told():
    assert "--no-proxy-headers" in api_command(8000)
    command = api_command(8000, forwarded_allow_ips="10.0.0.1, 10.0.0.2")
    assert command[command.index("--forwarded-allow-ips") + 1] == "10.0.0.1, 10.0.0.2"
    assert "--no-proxy-headers" not in command
