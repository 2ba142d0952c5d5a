"""A logged traceback shows where it happened, never the local variables of its frames, and a
credential in its text is cut out like in every other line."""

from __future__ import annotations

import logging

import pytest

from utils.logs import REDACTED, configure_logging

API_KEY = "tts_sk_Zq0NOTAREALKEY0123456789abcdef"
BODY_SECRET = "body-only-secret-4f1c2a"


def _fail_with_secrets_in_locals(api_key: str) -> None:
    request_body = {"password": BODY_SECRET}  # noqa: F841 - a local a traceback could show
    raise RuntimeError(f"upstream refused key {api_key}")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_tracebacks_show_no_locals_and_no_keys(log_format, capsys):
    configure_logging(log_format)
    try:
        _fail_with_secrets_in_locals(API_KEY)
    except RuntimeError:
        logging.getLogger("tts.test").exception("block failed")
    err = capsys.readouterr().err
    assert "_fail_with_secrets_in_locals" in err  # the traceback is there
    assert "RuntimeError" in err
    assert BODY_SECRET not in err  # no frame's locals
    assert "request_body" not in err
    assert API_KEY not in err  # the key in the exception's message is cut out
    assert REDACTED in err
