"""CORS (api/cors.py, settings/cors.py): pre-flights answered on every route, for allowed
origins only; credentials only with exact origins; the headers a page reads exposed on real
answers, errors included; and the Origin check of the input-streaming WebSockets."""

from __future__ import annotations

import asyncio
import re

import pytest
import websockets
from fastapi.testclient import TestClient

from api.main import create_app
from config import Settings, SettingsError, describe_errors
from settings.errors import read_settings
from tests.api.realtime_helpers import ws_url
from tests.helpers import bearer, served

APP = "https://app.example.com"
OTHER = "https://evil.example.net"
PATTERN = r"https://[a-z0-9-]+\.example\.com"


def preflight(client, path: str, origin: str, method: str = "POST", headers: str = ""):
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=asked)


@pytest.fixture
def cors_app(service_redis, users):
    """A client of the API allowing APP (exactly) and PATTERN."""
    settings = Settings(
        CORS_ALLOW_ORIGINS=APP, CORS_ALLOW_ORIGIN_REGEX=PATTERN, RATE_LIMIT_TOKEN="2/minute"
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_without_settings_no_other_origin_gets_an_answer(app):
    answer = preflight(app, "/v1/audio/speech", APP, headers="authorization")
    assert "access-control-allow-origin" not in answer.headers
    assert answer.status_code == 405  # nothing answers OPTIONS: the route's own refusal
    listed = app.get("/health", headers={"Origin": APP})
    assert "access-control-allow-origin" not in listed.headers


def test_every_route_answers_a_preflight_from_an_allowed_origin(cors_app):
    asked = "authorization, content-type, range, x-request-id"
    paths = cors_app.app.openapi()["paths"]
    assert "/v1/audio/speech" in paths and len(paths) > 30
    checked = 0
    for template, operations in paths.items():
        path = re.sub(r"\{[^}]+\}", "x", template)
        for method in (m.upper() for m in operations if m != "parameters"):
            answer = preflight(cors_app, path, APP, method, asked)
            assert answer.status_code == 200, (method, template, answer.text)
            assert answer.headers["access-control-allow-origin"] == APP
            assert method in answer.headers["access-control-allow-methods"].split(", ")
            checked += 1
    print(f"pre-flights answered: {checked} (route, method) pairs")
    speech = preflight(cors_app, "/v1/audio/speech", APP, headers=asked)
    allowed = {h.lower() for h in speech.headers["access-control-allow-headers"].split(", ")}
    assert {"authorization", "content-type", "range", "x-request-id"} <= allowed
    assert speech.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in speech.headers
    assert "origin" in speech.headers["vary"].lower()


def test_an_origin_not_allowed_gets_no_leave(cors_app):
    for origin in (OTHER, "http://app.example.com", "https://app.example.com:8443"):
        answer = preflight(cors_app, "/v1/audio/speech", origin, headers="authorization")
        assert answer.status_code == 400, origin
        assert "access-control-allow-origin" not in answer.headers
    # a simple request is answered (a browser is what keeps the page from reading it)
    plain = cors_app.get("/health", headers={"Origin": OTHER})
    assert "access-control-allow-origin" not in plain.headers


def test_a_pattern_matches_whole_origins_only(cors_app):
    for origin, allowed in (
        ("https://reader.example.com", True),
        ("https://my-app2.example.com", True),
        ("https://reader.example.com.evil.net", False),
        ("https://example.com", False),
        ("http://reader.example.com", False),
    ):
        answer = preflight(cors_app, "/v1/audio/speech", origin)
        assert (answer.status_code == 200) is allowed, origin
        assert (answer.headers.get("access-control-allow-origin") == origin) is allowed


def test_a_header_the_api_does_not_read_needs_its_own_leave(service_redis):
    strict = TestClient(create_app(Settings(CORS_ALLOW_ORIGINS=APP)))
    assert preflight(strict, "/v1/audio/speech", APP, headers="x-stainless-lang").status_code == 400
    extra = Settings(CORS_ALLOW_ORIGINS=APP, CORS_ALLOW_HEADERS="X-Stainless-Lang")
    answer = preflight(
        TestClient(create_app(extra)), "/v1/audio/speech", APP, "POST", "x-stainless-lang"
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "env",
    [
        {"CORS_ALLOW_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "true"},
        {"CORS_ALLOW_ORIGINS": f"{APP},*", "CORS_ALLOW_CREDENTIALS": "true"},
        {"CORS_ALLOW_ORIGIN_REGEX": PATTERN, "CORS_ALLOW_CREDENTIALS": "true"},
    ],
)
def test_credentials_with_a_wildcard_or_pattern_are_refused_at_start(env, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        read_settings(Settings)
    message = str(refused.value)
    assert "CORS_ALLOW_CREDENTIALS=true needs exact origins" in message
    assert PATTERN not in message


@pytest.mark.parametrize(
    "env, name, words",
    [
        ({"CORS_ALLOW_ORIGINS": f"{APP}/reader"}, "CORS_ALLOW_ORIGINS", "no path"),
        ({"CORS_ALLOW_ORIGINS": "app.example.com"}, "CORS_ALLOW_ORIGINS", "http://localhost:5173"),
        ({"CORS_ALLOW_ORIGINS": "ftp://files.example"}, "CORS_ALLOW_ORIGINS", "scheme"),
        ({"CORS_ALLOW_ORIGIN_REGEX": "https://(app"}, "CORS_ALLOW_ORIGIN_REGEX", "regular exp"),
    ],
)
def test_a_malformed_origin_or_pattern_is_refused_naming_the_setting(env, name, words):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        Settings(**env)
    message = describe_errors(refused.value)
    assert name in message and words in message, message


def test_credentials_with_exact_origins_name_the_origin_never_a_wildcard(service_redis):
    settings = Settings(CORS_ALLOW_ORIGINS=APP, CORS_ALLOW_CREDENTIALS=True)
    client = TestClient(create_app(settings))
    answer = preflight(client, "/v1/audio/speech", APP, headers="authorization")
    assert answer.headers["access-control-allow-origin"] == APP
    assert answer.headers["access-control-allow-credentials"] == "true"
    # any origin without credentials: the wildcard, and never the credentials header
    anyone = TestClient(create_app(Settings(CORS_ALLOW_ORIGINS="*")))
    answer = preflight(anyone, "/v1/audio/speech", OTHER, headers="authorization")
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers
    plain = anyone.get("/health", headers={"Origin": OTHER})
    assert plain.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in plain.headers


def exposed(response) -> set[str]:
    return {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}


def test_a_real_answer_exposes_what_a_page_reads(cors_app):
    headers = {**bearer(cors_app, "alice"), "Origin": APP, "X-Request-ID": "page-42"}
    created = cors_app.post("/tts", json={"blocks": [{"text": "Hello."}]}, headers=headers)
    assert created.status_code == 202, created.text
    assert created.headers["access-control-allow-origin"] == APP
    assert created.headers["location"].startswith("/status/")
    assert created.headers["x-request-id"] == "page-42"
    for name in (
        "content-range",
        "content-length",
        "content-disposition",
        "location",
        "retry-after",
        "x-request-id",
        "x-job-id",
    ):
        assert name in exposed(created), name


def test_errors_carry_the_cors_headers(cors_app):
    origin = {"Origin": APP}
    body = {"model": "tts-1", "input": "Hello.", "voice": "en_US-joe-medium"}
    unauthorized = cors_app.post("/v1/audio/speech", json=body, headers=origin)
    assert unauthorized.status_code == 401
    assert unauthorized.headers["access-control-allow-origin"] == APP
    assert "x-request-id" in exposed(unauthorized)

    too_large = cors_app.post(
        "/tts", content=b"x" * (3 * 1024 * 1024), headers={**origin, "Content-Type": "text/plain"}
    )
    assert too_large.status_code == 413
    assert too_large.headers["access-control-allow-origin"] == APP

    foreign_host = cors_app.get("/health", headers={**origin, "Host": "elsewhere.example"})
    assert foreign_host.status_code == 400
    assert foreign_host.headers["access-control-allow-origin"] == APP

    for _ in range(2):  # RATE_LIMIT_TOKEN: 2 a minute from one address
        cors_app.post("/token", data={"username": "alice", "password": "wrong"}, headers=origin)
    limited = cors_app.post("/token", data={"username": "alice", "password": "x"}, headers=origin)
    assert limited.status_code == 429
    assert limited.headers["access-control-allow-origin"] == APP
    assert int(limited.headers["retry-after"]) > 0 and "retry-after" in exposed(limited)

    # An unexpected error is answered by Starlette's outermost layer: still readable by the page,
    # with the request id it can quote.
    @cors_app.app.get("/boom-for-cors-test")
    def boom():
        raise RuntimeError("broken on purpose")

    cors_app.app.middleware_stack = None  # rebuilt with the route
    failed = cors_app.get("/boom-for-cors-test", headers={**origin, "X-Request-ID": "boom-1"})
    assert failed.status_code == 500
    assert failed.headers["access-control-allow-origin"] == APP
    assert failed.headers["x-request-id"] == "boom-1"


# WebSockets: a browser sends its page's Origin; other clients send none.


@pytest.fixture
def ws_service(service_redis, users):
    settings = Settings(CORS_ALLOW_ORIGINS=APP, CORS_ALLOW_ORIGIN_REGEX=PATTERN)
    with served(create_app(settings)) as url:
        yield url


async def handshake(url: str, origin: str | None, path: str) -> int:
    """The status of the upgrade: 101 where the socket opened."""
    target = ws_url(url, "en_US-joe-medium", path)
    try:
        async with websockets.connect(target, origin=origin, open_timeout=10):
            return 101
    except websockets.InvalidStatus as refused:
        return refused.response.status_code


@pytest.mark.parametrize("path", ["stream-input", "multi-stream-input"])
def test_a_websocket_from_a_foreign_origin_is_refused(ws_service, path):
    async def scenario():
        own = ws_service.replace("127.0.0.1", "localhost")  # the page the service itself serves
        return {
            origin: await handshake(ws_service, origin, path)
            for origin in (OTHER, "https://reader.example.com", APP, None, ws_service, own)
        }

    statuses = asyncio.run(scenario())
    assert statuses == {
        OTHER: 403,
        "https://reader.example.com": 101,
        APP: 101,
        None: 101,  # not a browser
        ws_service: 101,  # the service's own pages
        ws_service.replace("127.0.0.1", "localhost"): 403,  # another host, the same port
    }


def test_a_websocket_with_a_valid_key_from_a_foreign_origin_is_refused(ws_service):
    from tests.api.realtime_helpers import token_for

    async def scenario():
        target = ws_url(ws_service, "en_US-joe-medium")
        headers = {"Authorization": f"Bearer {token_for(ws_service)}"}
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(target, origin=OTHER, additional_headers=headers):
                pass
        return refused.value.response.status_code

    assert asyncio.run(scenario()) == 403
