"""Every rejected job: 422, the block index, the field and the allowed values; nothing queued."""

import pytest

from config import get_settings
from utils.names import CONTROL_QUEUE

SETTINGS = get_settings()


def ok_block(**changes):
    return {"text": "Hello.", **changes}


CASES = {
    "empty list": ({"blocks": []}, "blocks", "at least one block"),
    "too many blocks": (
        {"blocks": [ok_block()] * (SETTINGS.MAX_BLOCKS + 1)},
        "blocks",
        f"at most {SETTINGS.MAX_BLOCKS} blocks",
    ),
    "empty text": (
        {"blocks": [ok_block(), ok_block(text="   ")]},
        "blocks[1].text",
        "must not be empty",
    ),
    "text too long": (
        {"blocks": [ok_block(text="a" * (SETTINGS.MAX_BLOCK_CHARS + 1))]},
        "blocks[0].text",
        f"at most {SETTINGS.MAX_BLOCK_CHARS} characters",
    ),
    "negative pause": (
        {"blocks": [ok_block(wait_after_ms=-1)]},
        "blocks[0].wait_after_ms",
        "between 0 and 10000 ms, got -1",
    ),
    "pause too long": (
        {"blocks": [ok_block(), ok_block(), ok_block(wait_after_ms=10001)]},
        "blocks[2].wait_after_ms",
        "between 0 and 10000 ms, got 10001",
    ),
    "unknown provider": (
        {"blocks": [ok_block(provider="acme")]},
        "blocks[0].provider",
        "unknown provider 'acme'; allowed: bulk, elevenlabs, kokoro, limited, local-llm, openai, "
        "piper, volcengine",
    ),
    "unknown voice": (
        {"blocks": [ok_block(), ok_block(voice="nobody")]},
        "blocks[1].voice",
        "unknown voice 'nobody' for provider 'piper'; allowed: en_US-joe-medium",
    ),
    "unknown output format": (
        {"blocks": [ok_block()], "output_format": "ogg"},
        "output_format",
        "unknown format 'ogg'; allowed: mp3_{rate}_{kbps} (22050, 24000 Hz at 32, 48, 64, 96, "
        "128 kbps; 44100, 48000 Hz at 64, 96, 128, 192 kbps); wav_{rate} (8000, 16000, 22050, "
        "24000, 44100, 48000 Hz)",
    ),
    "speed out of range": (
        {"blocks": [ok_block(speed=3)]},
        "blocks[0].speed",
        "between 0.5 and 2.0",
    ),
    "pause not a number": (
        {"blocks": [ok_block(wait_after_ms="soon")]},
        "blocks[0].wait_after_ms",
        "must be an integer, got a string",
    ),
    "speed as a string": (
        {"blocks": [ok_block(speed="1.5")]},
        "blocks[0].speed",
        "must be a number, got a string",
    ),
    "speed as a boolean": (
        {"blocks": [ok_block(speed=True)]},
        "blocks[0].speed",
        "must be a number, got true",
    ),
    "pause as a boolean": (
        {"blocks": [ok_block(), ok_block(wait_after_ms=True)]},
        "blocks[1].wait_after_ms",
        "must be an integer, got true",
    ),
    "pause as a string of digits": (
        {"blocks": [ok_block(wait_after_ms="1")]},
        "blocks[0].wait_after_ms",
        "must be an integer, got a string",
    ),
    "pause with a fraction": (
        {"blocks": [ok_block(wait_after_ms=1.5)]},
        "blocks[0].wait_after_ms",
        "must be an integer, got 1.5",
    ),
    "text as a number": ({"blocks": [{"text": 5}]}, "blocks[0].text", "must be a string, got 5"),
    "blocks as an object": ({"blocks": {"text": "Hi."}}, "blocks", "must be a list, got an object"),
    "missing text": ({"blocks": [{"voice": "x"}]}, "blocks[0].text", "required"),
    "unknown field": ({"blocks": [ok_block(pause=3)]}, "blocks[0].pause", "not a known field"),
    "blank chapter": (
        {"blocks": [ok_block(), ok_block(chapter="  ")]},
        "blocks[1].chapter",
        "must not be blank",
    ),
    "chapter too long": (
        {"blocks": [ok_block(chapter="c" * 201)]},
        "blocks[0].chapter",
        "at most 200 characters",
    ),
    "blank author": ({"blocks": [ok_block()], "author": ""}, "author", "must not be blank"),
    "title too long": ({"blocks": [ok_block()], "title": "t" * 201}, "title", "at most 200"),
    "unknown loudness preset": (
        {"blocks": [ok_block()], "loudness": "loud"},
        "loudness",
        "unknown preset 'loud'; allowed: podcast (-16 LUFS, -1 dBTP), audiobook (-19 LUFS, "
        "-3 dBTP), broadcast (-23 LUFS, -1 dBTP), or {",
    ),
    "loudness target out of range": (
        {"blocks": [ok_block()], "loudness": {"integrated_lufs": -60}},
        "loudness.integrated_lufs",
        "between -40 and -10 LUFS, got -60",
    ),
    "true peak above 0": (
        {"blocks": [ok_block()], "loudness": {"integrated_lufs": -16, "true_peak_db": 2}},
        "loudness.true_peak_db",
        "between -12 and 0 dBTP, got 2",
    ),
}


@pytest.mark.parametrize("body, field, message", CASES.values(), ids=CASES.keys())
def test_rejected_jobs_name_the_field_and_queue_nothing(
    app, alice, service_redis, body, field, message
):
    queued_before = service_redis.llen(CONTROL_QUEUE)
    response = app.post("/tts", headers=alice, json=body)
    assert response.status_code == 422, response.text
    errors = {e["field"]: e["msg"] for e in response.json()["detail"]}
    assert field in errors, errors
    assert message in errors[field]
    assert errors[field].startswith(f"{field}: ")
    assert service_redis.llen(CONTROL_QUEUE) == queued_before
    assert not list(service_redis.scan_iter("tts:job:*"))


def test_all_problems_are_reported_at_once(app, alice):
    body = {"blocks": [ok_block(text=""), ok_block(wait_after_ms=20000, voice="nobody")]}
    fields = {e["field"] for e in app.post("/tts", headers=alice, json=body).json()["detail"]}
    assert fields == {"blocks[0].text", "blocks[1].wait_after_ms", "blocks[1].voice"}


def test_a_malformed_job_id_is_refused_before_it_reaches_redis(app, alice):
    # %2F is decoded before routing: no route has that many segments, so nothing is looked up
    response = app.get("/status/..%2F..%2Fetc%2Fpasswd", headers=alice)
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}
    response = app.get("/status/not-a-uuid", headers=alice)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "job_id"


def test_an_integer_is_a_speed(app, alice):
    response = app.post("/tts", headers=alice, json={"blocks": [ok_block(speed=2)]})
    assert response.status_code == 202, response.text


def test_each_error_names_where_the_value_came_from(app, alice):
    job = "8a1b6d3e-5c52-4c1e-9a4e-3f1c2b7d9e10"
    cases = [
        (f"/status/{job[:-1]}", ["path", "job_id"], "job_id"),
        (f"/result/{job}/block/first/audio", ["path", "index"], "index"),
        (f"/result/{job}/block/-1/audio", ["path", "index"], "index"),
        (f"/result/{job}/audio?stream=maybe", ["query", "stream"], "stream"),
    ]
    for path, loc, field in cases:
        response = app.get(path, headers=alice)
        assert response.status_code == 422, (path, response.text)
        [error] = response.json()["detail"]
        assert (error["loc"], error["field"]) == (loc, field), path
        assert error["msg"].startswith(f"{field}: ")


@pytest.mark.parametrize(
    "body, at, reason",
    [
        (b'{"blocks": [{"text": "Hi."}', 27, "Expecting ',' delimiter"),
        (b'{"blocks": [{"text": "Hi.",}]}', 27, "Expecting property name"),
        (b"blocks", 0, "Expecting value"),
    ],
)
def test_broken_json_is_an_error_of_the_body_saying_where(app, alice, body, at, reason):
    headers = {**alice, "Content-Type": "application/json"}
    response = app.post("/tts", headers=headers, content=body)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"] and error["field"] == "body"
    assert error["msg"].startswith(f"body: invalid JSON at character {at}: {reason}")


@pytest.mark.parametrize(
    "headers, sent",
    [
        # what curl -d sends unless told otherwise
        (
            {"Content-Type": "application/x-www-form-urlencoded"},
            "application/x-www-form-urlencoded",
        ),
        ({"Content-Type": "text/plain"}, "text/plain"),
        ({}, "no Content-Type"),
    ],
)
def test_a_body_not_sent_as_json_says_to_send_its_content_type(app, alice, headers, sent):
    body = b'{"blocks": [{"text": "Hello."}]}'
    response = app.post("/tts", headers={**alice, **headers}, content=body)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["field"] == "body" and error["type"] == "content_type"
    assert error["msg"].startswith("body: must be JSON")
    assert "`Content-Type: application/json`" in error["msg"] and sent in error["msg"]


def test_curl_d_is_told_how_to_send_json(app, alice):
    response = app.post("/tts", headers=alice, data={"text": "Hello"})  # a form, as curl -d
    [error] = response.json()["detail"]
    assert "curl -d" in error["msg"] and "--json" in error["msg"]


def test_text_alone_says_a_job_needs_blocks_or_ssml(app, alice, service_redis):
    response = app.post("/tts", headers=alice, json={"text": "Hello"})
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]  # one message, not a second about `blocks`
    assert error["field"] == "text"
    assert error["msg"] == (
        'text: is not a known field; a job needs `blocks` (a list of {"text": ...}) or `ssml`'
    )
    assert not list(service_redis.scan_iter("tts:job:*"))


def test_an_empty_job_says_what_it_needs(app, alice):
    [error] = app.post("/tts", headers=alice, json={}).json()["detail"]
    assert error["field"] == "blocks"
    assert "a job needs `blocks`" in error["msg"] and "`ssml`" in error["msg"]


def test_type_errors_and_range_errors_are_listed_together(app, alice, service_redis):
    body = {
        "blocks": [
            ok_block(speed="1.5", wait_after_ms=99999),
            ok_block(text="", voice="nobody"),
            7,
            {"text": 5, "wait_after_ms": -1},
        ],
        "output_format": "ogg",
        "title": 7,
        "author": "",
    }
    response = app.post("/tts", headers=alice, json=body)
    assert response.status_code == 422, response.text
    errors = {e["field"]: e["msg"] for e in response.json()["detail"]}
    assert errors == {
        "blocks[0].speed": "blocks[0].speed: must be a number, got a string",
        "blocks[0].wait_after_ms": "blocks[0].wait_after_ms: must be between 0 and 10000 ms, "
        "got 99999",
        "blocks[1].text": "blocks[1].text: must not be empty",
        "blocks[1].voice": errors["blocks[1].voice"],
        "blocks[2]": "blocks[2]: must be an object, got 7",
        "blocks[3].text": "blocks[3].text: must be a string, got 5",
        "blocks[3].wait_after_ms": "blocks[3].wait_after_ms: must be between 0 and 10000 ms, "
        "got -1",
        "output_format": errors["output_format"],
        "title": "title: must be a string, got 7",
        "author": "author: must not be blank: a value, or leave it out",
    }
    assert (
        "unknown voice 'nobody' for provider 'piper'; allowed: en_US-joe-medium"
        in (errors["blocks[1].voice"])
    )
    assert errors["output_format"].startswith("output_format: unknown format 'ogg'; allowed: mp3_")
    assert not list(service_redis.scan_iter("tts:job:*"))


def test_a_value_refused_for_its_type_is_not_checked_again(app, alice):
    # a refused provider: the voice is not then checked against the default provider's voices
    body = {"blocks": [ok_block(provider=5, voice="af_bella", speed=3)], "ssml": 5}
    errors = {
        e["field"]: e["msg"] for e in app.post("/tts", headers=alice, json=body).json()["detail"]
    }
    assert errors == {
        "blocks[0].provider": "blocks[0].provider: must be a string, got 5",
        "blocks[0].speed": "blocks[0].speed: must be between 0.5 and 2.0, got 3.0",
        "ssml": "ssml: must be a string, got 5",
    }
