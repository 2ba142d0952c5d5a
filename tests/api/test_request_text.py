"""Strings the service cannot store or speak are refused at submit: 422 naming the block and the
field, never a 500, and no error body that cannot itself be sent."""

import json

import pytest

from utils.errors import FieldError, InvalidRequest
from utils.names import CONTROL_QUEUE

JSON = {"Content-Type": "application/json"}


def post(app, headers, body: str | bytes):
    content = body.encode() if isinstance(body, str) else body
    return app.post("/tts", headers={**headers, **JSON}, content=content)


def errors_of(response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    response.content.decode("utf-8")  # the error body itself is valid UTF-8
    return {e["field"]: e["msg"] for e in response.json()["detail"]}


FINE = b'{"text": "Fine."}, {"text": "Fine."}'
# JSON escapes as a client writes them: \ud800 alone is half of a pair, no character.
LONE_SURROGATE = {
    "text": (b'{"blocks": [%s, {"text": "Hello \\ud800 there"}]}' % FINE, "blocks[2].text"),
    "provider": (
        b'{"blocks": [%s, {"text": "Hi.", "provider": "\\udfff"}]}' % FINE,
        "blocks[2].provider",
    ),
    "voice": (
        b'{"blocks": [%s, {"text": "Hi.", "voice": "joe\\ud83d"}]}' % FINE,
        "blocks[2].voice",
    ),
    "output_format": (
        b'{"blocks": [%s], "output_format": "mp3\\ud800"}' % FINE,
        "output_format",
    ),
    # CESU-8: a surrogate encoded as raw bytes, which json.loads lets through as well
    "text as raw bytes": (b'{"blocks": [%s, {"text": "H\xed\xa0\x80i"}]}' % FINE, "blocks[2].text"),
}


@pytest.mark.parametrize("body, field", LONE_SURROGATE.values(), ids=LONE_SURROGATE.keys())
def test_a_lone_surrogate_in_any_string_is_a_422_naming_the_field(
    app, alice, service_redis, body, field
):
    queued_before = service_redis.llen(CONTROL_QUEUE)
    errors = errors_of(post(app, alice, body))
    assert field in errors, errors
    assert "half of a surrogate pair" in errors[field] and "valid UTF-8" in errors[field]
    assert service_redis.llen(CONTROL_QUEUE) == queued_before
    assert not list(service_redis.scan_iter("tts:job:*"))


def test_a_lone_surrogate_in_a_field_name_is_a_422_too(app, alice):
    errors = errors_of(post(app, alice, '{"blocks": [{"text": "Hi.", "x\\udc00": 1}]}'))
    message = "has a field name that is not valid UTF-8 (half of a surrogate pair)"
    assert errors == {"blocks[0]": f"blocks[0]: {message}"}


def test_an_error_that_quotes_a_lone_surrogate_is_still_sent(service_redis):
    """Whatever a message quotes, its body is sent: a surrogate is written out as text."""
    from fastapi import HTTPException
    from fastapi.testclient import TestClient

    from api.main import create_app

    app = create_app()

    def refuse():
        raise InvalidRequest([FieldError(("blocks", 0, "x\udc00"), "bad value '\ud800'")])

    def forbid():
        raise HTTPException(403, "no access to '\udfff'")

    app.add_api_route("/refuse", refuse)
    app.add_api_route("/forbid", forbid)
    with TestClient(app) as client:
        errors = errors_of(client.get("/refuse"))
        forbidden = client.get("/forbid")
    assert errors == {"blocks[0].x\\udc00": "blocks[0].x\\udc00: bad value '\\ud800'"}
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "no access to '\\udfff'"}


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85"])
def test_control_characters_are_refused_naming_the_character(app, alice, char):
    body = json.dumps({"blocks": [{"text": "Fine."}, {"text": f"Hello{char}world"}]})
    errors = errors_of(post(app, alice, body))
    code = f"U+{ord(char):04X}"
    assert errors == {
        "blocks[1].text": f"blocks[1].text: contains the control character {code} at character "
        "5; of control characters only tab, newline and carriage return are allowed"
    }


def test_a_control_character_in_a_voice_is_refused_too(app, alice):
    errors = errors_of(post(app, alice, json.dumps({"blocks": [{"text": "Hi.", "voice": "a\0"}]})))
    assert "control character U+0000" in errors["blocks[0].voice"]


def test_tabs_newlines_and_carriage_returns_are_text(app, alice):
    body = {"blocks": [{"text": "Line one.\r\n\tLine two.\nLine three."}]}
    assert app.post("/tts", headers=alice, json=body).status_code == 202


NOTHING_TO_SPEAK = {
    "punctuation": "...?!",
    "symbols": "*** --- ###",
    "zero-width space": "\u200b",
    "byte order marks": "\ufeff\ufeff",
    "zero-width and punctuation": "\u200b.\u200d,\u2060",
    "a lone combining accent": "\u0301",
}


@pytest.mark.parametrize("text", NOTHING_TO_SPEAK.values(), ids=NOTHING_TO_SPEAK.keys())
def test_text_with_nothing_to_speak_is_refused(app, alice, text):
    body = {"blocks": [{"text": "Fine."}, {"text": "Fine."}, {"text": text}]}
    errors = errors_of(app.post("/tts", headers=alice, json=body))
    assert errors == {
        "blocks[2].text": "blocks[2].text: has nothing to speak: needs at least one letter or digit"
    }


@pytest.mark.parametrize("text", [" \t\n ", ""])
def test_whitespace_alone_is_empty(app, alice, text):
    errors = errors_of(app.post("/tts", headers=alice, json={"blocks": [{"text": text}]}))
    assert errors == {"blocks[0].text": "blocks[0].text: must not be empty"}


@pytest.mark.parametrize("text", ["42", "Ω", "日本語", "\u200bHi\ufeff", "l'été…"])
def test_a_letter_or_a_digit_is_enough(app, alice, text):
    response = app.post("/tts", headers=alice, json={"blocks": [{"text": text}]})
    assert response.status_code == 202, response.text
