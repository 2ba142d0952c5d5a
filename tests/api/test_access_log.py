"""Credentials sent in a query string never reach uvicorn's access log."""

import logging
import time

import httpx
import pytest

from api.access_log import redact
from tests.helpers import served

SECRETS = {
    "token": "tok-SECRET-1",
    "access_token": "acc-SECRET-2",
    "api_key": "api-SECRET-3",
    "key": "key-SECRET-4",
    "sig": "sig-SECRET-5",
    "signature": "signature-SECRET-6",
    "password": "pw-SECRET-7",
    "Token": "case-SECRET-8",
    "%74oken": "encoded-SECRET-9",
}


@pytest.fixture
def api_server(service_redis):
    """The app under a real uvicorn on loopback, logging every request to "uvicorn.access"."""
    from api.main import create_app

    with served(create_app()) as url:
        yield url


def test_credentials_in_a_query_string_never_reach_the_access_log(api_server, caplog):
    query = "&".join(f"{name}={value}" for name, value in SECRETS.items())
    path = f"/result/8a1b6d3e-5c52-4c1e-9a4e-3f1c2b7d9e10/audio?stream=true&{query}&exp=17"
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        response = httpx.get(f"{api_server}{path}", timeout=10)
        assert response.status_code in (401, 403)
        deadline = time.monotonic() + 5
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.02)
    [line] = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert "GET /result/8a1b6d3e-5c52-4c1e-9a4e-3f1c2b7d9e10/audio?stream=true&" in line
    for name, value in SECRETS.items():
        assert value not in line
        assert f"{name}=[redacted]" in line
    assert line.endswith(f'exp=17 HTTP/1.1" {response.status_code}')  # the rest is kept


@pytest.mark.parametrize(
    "logged, expected",
    [
        ("/a?token=x", "/a?token=[redacted]"),
        ("/a?tokens=x&my_key=y&keys=z", "/a?tokens=x&my_key=y&keys=z"),
        ("/a?x=1&sig=abc&y=2", "/a?x=1&sig=[redacted]&y=2"),
        ("/a?password=&x=1", "/a?password=[redacted]&x=1"),
        ("/a?PASSWORD=p%26q&x=1", "/a?PASSWORD=[redacted]&x=1"),
        ("/a?x=token=1", "/a?x=token=1"),
        ('GET /a?key=k HTTP/1.1" 200', 'GET /a?key=[redacted] HTTP/1.1" 200'),
        ("/a/token=1", "/a/token=1"),  # a path, not a query parameter
    ],
)
def test_only_credential_values_are_redacted(logged, expected):
    assert redact(logged) == expected
