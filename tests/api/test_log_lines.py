"""Log lines as JSON: uvicorn's access line carries the request id and no credential, and
secrets are cut out of any line."""

from __future__ import annotations

import json
import logging
import uuid

import httpx
import structlog

from api.main import create_app
from config import Settings
from tests.helpers import access_log_on, served
from utils.logs import REDACTED, bind_fields, configure_logging, reset_fields, scrub_text


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_the_access_line_is_json_with_the_request_id_and_no_credential(app, alice, capsys):
    job_id = str(uuid.uuid4())
    with access_log_on(), served(create_app(Settings(LOG_FORMAT="json"))) as url:
        answer = httpx.get(
            f"{url}/status/{job_id}?token=s3cr3t-value&lang=en",
            headers={**alice, "X-Request-ID": "access-1"},
        )
    assert answer.status_code == 404 and answer.headers["x-request-id"] == "access-1"
    err = capsys.readouterr().err
    assert "s3cr3t-value" not in err
    assert alice["Authorization"].removeprefix("Bearer ") not in err
    access = [line for line in json_lines(err) if line.get("logger") == "uvicorn.access"]
    assert len(access) == 1, err[-2000:]
    line = access[0]
    assert f"token={REDACTED}&lang=en" in line["event"]
    assert line["request_id"] == "access-1" and line["user"] == "alice"
    assert line["route"] == "/status/{job_id}" and line["status"] == 404
    assert isinstance(line["duration_ms"], int)


def test_secrets_never_reach_a_line(capsys):
    configure_logging("json")
    token = bind_fields(request_id="r-1", user="alice")
    try:
        logging.getLogger("anything").warning(
            "sent Authorization: Bearer eyJ.secret.token with tts_sk_ABCdef0123 to "
            "redis://:hunter2@redis:6379/0"
        )
        structlog.get_logger("ours").info("login", password="hunter3", api_key="sk-hunter4")
    finally:
        reset_fields(token)
    err = capsys.readouterr().err
    for secret in ("eyJ.secret.token", "tts_sk_ABCdef0123", "hunter2", "hunter3", "hunter4"):
        assert secret not in err
    lines = json_lines(err)
    assert [line["request_id"] for line in lines] == ["r-1", "r-1"]
    assert lines[1]["password"] == REDACTED and lines[1]["user"] == "alice"


def test_scrub_keeps_what_is_not_a_secret():
    text = "user alice@example.com asked for /status/abc at https://tts.example.com/x"
    assert scrub_text(text) == text
