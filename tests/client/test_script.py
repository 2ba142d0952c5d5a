"""Scripts as people write them, into the body of POST /tts (plain functions, no service)."""

from __future__ import annotations

import json

import pytest
from tts_client._core import chapter_field, job_body
from tts_client.script import kind_of, script_to_job


def test_paragraphs_of_plain_text_are_blocks_with_the_pause_between():
    body = script_to_job("One line\nand its next.\n\n\nTwo.\n", voice="v", speed=1.2, pause_ms=250)
    assert body == {
        "blocks": [
            {"text": "One line and its next.", "voice": "v", "speed": 1.2, "wait_after_ms": 250},
            {"text": "Two.", "voice": "v", "speed": 1.2, "wait_after_ms": 0},
        ]
    }


MARKDOWN = """# Part *One*

Some **bold** and `code` and a [link](http://x) ![img](y.png).
> quoted line

- first item
- second item

```
print("not read aloud")
```
---
## Part Two
The end.
"""


def test_markdown_headings_open_chapters_only_where_the_server_takes_them():
    plain = script_to_job(MARKDOWN, pause_ms=400, output_format="wav_24000")
    texts = [(b["text"], b["wait_after_ms"]) for b in plain["blocks"]]
    assert texts == [
        ("Part One", 800),  # a heading: a block of its own, a longer pause after it
        ("Some bold and code and a link. quoted line", 400),
        ("first item", 400),
        ("second item", 400),
        ("Part Two", 800),
        ("The end.", 0),
    ]
    assert plain["output_format"] == "wav_24000"
    assert all("chapter" not in b for b in plain["blocks"])
    titled = script_to_job(MARKDOWN, chapter_kind="string")["blocks"]
    assert [b.get("chapter") for b in titled] == ["Part One", None, None, None, "Part Two", None]
    flagged = script_to_job(MARKDOWN, chapter_kind="boolean")["blocks"]
    assert [b.get("chapter") for b in flagged] == [True, None, None, None, True, None]


def test_ssml_and_json_are_recognised_and_sent_as_they_are():
    assert kind_of("  <speak>Hi</speak>") == "ssml"
    assert script_to_job("<speak>Hi</speak>\n", output_format="flac_24000") == {
        "ssml": "<speak>Hi</speak>",
        "output_format": "flac_24000",
    }
    job = {"blocks": [{"text": "x", "id": "a"}], "combine": False}
    assert script_to_job(json.dumps(job), voice="ignored") == job
    assert kind_of("no headings here", "notes.md") == "markdown"
    with pytest.raises(ValueError, match="one object"):
        script_to_job("[1, 2]")
    with pytest.raises(ValueError, match="no text"):
        script_to_job("\n\n  \n")


def test_job_body_fills_blocks_and_refuses_what_cannot_be_sent():
    body = job_body(["a", {"text": "b", "voice": "own"}], voice="v", wait_after_ms=100)
    assert body["blocks"] == [
        {"text": "a", "voice": "v", "wait_after_ms": 100},
        {"text": "b", "voice": "own", "wait_after_ms": 100},
    ]
    with pytest.raises(ValueError):
        job_body(["a"], text="b")
    with pytest.raises(ValueError, match="inside the SSML"):
        job_body(ssml="<speak/>", voice="v")


def test_the_chapter_field_is_read_from_the_servers_schema():
    def schema(prop):
        props = {"text": {"type": "string"}, **({"chapter": prop} if prop else {})}
        return {"components": {"schemas": {"BlockIn": {"properties": props}}}}

    assert chapter_field(schema(None)) is None
    assert chapter_field(schema({"anyOf": [{"type": "string"}, {"type": "null"}]})) == "string"
    assert chapter_field(schema({"type": "boolean"})) == "boolean"
