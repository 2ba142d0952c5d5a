"""Speech marks, SSML marks and subtitles by word, from real jobs through the worker.

Speech marks are checked the way a client uses them: each line parsed on its own, and its
byte offsets used to slice the input exactly as it was sent.
"""

from __future__ import annotations

import json
import re

import pytest
import srt
import webvtt

from tests.audio_helpers import decode, rms
from tests.helpers import wait_for_job
from utils.names import timings_key

pytestmark = pytest.mark.pipeline

RATE = 24000
RACHEL = "21m00Tcm4TlvDq8ikWAM"
TAG = re.compile(r"<(\d\d):(\d\d):(\d\d)\.(\d\d\d)>")
TAGGED_WORD = re.compile(TAG.pattern + r"(\S+)")


def completed(app, headers, body) -> str:
    response = app.post("/tts", headers=headers, json=body)
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert wait_for_job(app, job_id, headers, timeout_s=180)["status"] == "completed"
    return job_id


def speech_marks(app, job_id, headers) -> list[dict]:
    response = app.get(f"/result/{job_id}/timings?format=speechmarks", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-json-stream")
    lines = response.text.splitlines()
    marks = [json.loads(line) for line in lines]  # one object a line
    assert all(list(m) == ["time", "type", "start", "end", "value"] for m in marks)
    times = [m["time"] for m in marks]
    assert times == sorted(times)
    return marks


SSML_BLOCK = (
    '<speak>Zoë is <mark name="before"/>naïve &amp; kind. She says '
    '<sub alias="World Wide Web">WWW</sub> <mark name="after-sub"/>twice.</speak>'
)


def test_speech_marks_slice_the_input_as_sent(app, alice, worker):
    texts = ["  Zoë naïve café: déjà vu.  ", SSML_BLOCK, "Ein Straßenbahn-Fahrer grüßt."]
    blocks = [{"text": t, "provider": "elevenlabs", "voice": RACHEL} for t in texts]
    job_id = completed(app, alice, {"blocks": blocks})
    sent = "\n".join(texts).encode()  # the input: the blocks' texts joined by "\n"

    marks = speech_marks(app, job_id, alice)
    words = [m for m in marks if m["type"] == "word"]
    assert " ".join(w["value"] for w in words) == (
        "Zoë naïve café: déjà vu. Zoë is naïve & kind. She says World Wide Web twice. "
        "Ein Straßenbahn-Fahrer grüßt."
    )
    sub = sent[sent.index(b"<sub") : sent.index(b"</sub>") + len(b"</sub>")]
    for mark in marks:
        written = sent[mark["start"] : mark["end"]].decode()
        if mark["type"] == "ssml":
            assert written == f'<mark name="{mark["value"]}"/>'
        elif mark["value"] in ("World", "Wide", "Web"):
            assert written.encode() == sub  # said for the element: spans all of it
        elif mark["value"] == "&":
            assert written == "&amp;"
        elif mark["type"] == "sentence" and "<" in written:  # over the tags inside it
            first, *_, last = mark["value"].split()
            assert written.startswith(first) and written.endswith(last), (written, mark)
        else:
            assert written == mark["value"], mark
    sentences = [m["value"] for m in marks if m["type"] == "sentence"]
    assert sentences[0] == "Zoë naïve café: déjà vu."

    # the marks, at the start of the word after each
    timings = app.get(f"/result/{job_id}/timings", headers=alice).json()
    assert [(m["name"], m["block"], m["source"]) for m in timings["marks"]] == [
        ("before", 1, "word"),
        ("after-sub", 1, "word"),
    ]
    by_text = {(w["block"], w["text"]): w for w in timings["words"]}
    assert timings["marks"][0]["start_ms"] == by_text[(1, "naïve")]["start_ms"]
    assert timings["marks"][1]["start_ms"] == by_text[(1, "twice.")]["start_ms"]
    ssml_lines = [m for m in marks if m["type"] == "ssml"]
    assert [m["time"] for m in ssml_lines] == [m["start_ms"] for m in timings["marks"]]
    # a mark comes before the word it announces
    at = marks.index(ssml_lines[0])
    assert marks[at + 1]["type"] == "word" and marks[at + 1]["value"] == "naïve"


def test_an_ssml_job_has_offsets_into_its_document_and_marks_at_its_words(app, alice, worker):
    """Piper times words: a mark is placed at the start of the word after it."""
    document = (
        "<speak><p>The river was <mark name='m1'/>wide and slow.</p>"
        '<break time="400ms"/><mark name="m2"/><p>Nobody crossed it.</p></speak>'
    )
    job_id = completed(app, alice, {"ssml": document})
    raw = document.encode()
    marks = speech_marks(app, job_id, alice)
    assert [m["type"] for m in marks].count("ssml") == 2
    for mark in marks:
        written = raw[mark["start"] : mark["end"]].decode()
        if mark["type"] == "sentence":  # from its first word to its last, over tags
            assert re.sub(r"<[^>]*>", "", written) == mark["value"]
        elif mark["type"] == "word":
            assert written == mark["value"], mark
        else:
            assert written in ("<mark name='m1'/>", '<mark name="m2"/>')
    timings = app.get(f"/result/{job_id}/timings", headers=alice).json()
    first, second = timings["marks"]
    assert first["source"] == second["source"] == "word"
    starts = {w["text"]: w["start_ms"] for w in timings["words"]}
    assert first["start_ms"] == starts["wide"]
    assert second["start_ms"] == starts["Nobody"]  # after the pause, where the words begin
    river = timings["sentences"][0]
    assert river["start_ms"] < first["start_ms"] < river["end_ms"]


def test_a_provider_without_word_times_gets_estimated_words(app, alice, worker, service_redis):
    """An OpenAI-type server returns audio alone: its words are placed by characters over the
    sound of each sentence, and say so; a job stored with no words refuses subtitles by word."""
    text = "Nobody crossed the river that winter. The ice was thin."
    blocks = [{"text": text, "provider": "openai", "voice": "alloy"}]
    job_id = completed(app, alice, {"blocks": blocks})
    timings = app.get(f"/result/{job_id}/timings", headers=alice).json()
    words = timings["words"]
    assert [w["text"] for w in words] == text.split()
    assert {w["source"] for w in words} == {"estimated"}
    starts = [w["start_ms"] for w in words]
    assert starts == sorted(starts) and all(w["start_ms"] < w["end_ms"] for w in words)
    for sentence in timings["sentences"]:
        inside = [w for w in words if sentence["chars"][0] <= w["chars"][0] < sentence["chars"][1]]
        assert sentence["start_ms"] <= inside[0]["start_ms"]
        assert inside[-1]["end_ms"] <= sentence["end_ms"]
    assert app.get(f"/result/{job_id}/subtitles.srt?words=true", headers=alice).status_code == 200

    # timings kept before words were (no "words" rows): subtitles by word are refused
    stored = json.loads(service_redis.hget(timings_key(job_id), "0"))
    service_redis.hset(timings_key(job_id), "0", json.dumps({**stored, "words": []}))
    for name in ("srt", "vtt"):
        response = app.get(f"/result/{job_id}/subtitles.{name}?words=true", headers=alice)
        assert response.status_code == 422, response.text
        problem = response.json()["detail"][0]
        assert problem["loc"] == ["query", "words"] and "no word timings" in problem["msg"]


TEXT = (
    "Every word of this block comes with its own time from the provider, so subtitles can "
    "follow the words one by one. Short cues are easier to read. Then it ends."
)


def test_subtitles_by_word_follow_the_word_timings(app, alice, worker):
    blocks = [
        {"text": "A first block.", "provider": "elevenlabs", "voice": RACHEL, "wait_after_ms": 300},
        {"text": TEXT, "provider": "elevenlabs", "voice": RACHEL},
    ]
    job_id = completed(app, alice, {"blocks": blocks})
    timings = app.get(f"/result/{job_id}/timings", headers=alice).json()
    words = timings["words"]
    starts = {w["start_ms"] for w in words}

    response = app.get(
        f"/result/{job_id}/subtitles.srt?words=true&max_chars=24&max_seconds=1.5", headers=alice
    )
    assert response.status_code == 200, response.text
    cues = list(srt.parse(response.text))
    assert " ".join(c.content for c in cues) == " ".join(w["text"] for w in words)
    for cue in cues:
        assert "\n" not in cue.content and cue.start < cue.end
        if " " in cue.content:  # a cue of one word may be longer
            assert len(cue.content) <= 24 and (cue.end - cue.start).total_seconds() <= 1.5
        assert round(cue.start.total_seconds() * 1000) in starts
    assert all(a.end <= b.start for a, b in zip(cues, cues[1:], strict=False))

    plain = webvtt.from_string(app.get(f"/result/{job_id}/subtitles.vtt", headers=alice).text)
    response = app.get(f"/result/{job_id}/subtitles.vtt?words=true", headers=alice)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/vtt")
    karaoke = webvtt.from_string(response.text)
    assert [c.text for c in karaoke.captions] == [c.text for c in plain.captions]
    tagged = 0
    for caption in karaoke.captions:
        times = [
            ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(ms)
            for h, m, s, ms in TAG.findall(caption.raw_text)
        ]
        tagged += len(times)
        assert times == sorted(times) and all(t in starts for t in times)
        start, end = caption.start_time.in_milliseconds(), caption.end_time.in_milliseconds()
        assert all(start < t < end for t in times)
        # each timestamp stands right before the word that starts then
        for h, m, s, ms, word in TAGGED_WORD.findall(caption.raw_text):
            at = ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(ms)
            assert word in {w["text"] for w in words if w["start_ms"] == at}
    assert tagged == len(words) - len(karaoke.captions)  # every word but each cue's first


def test_kokoro_marks_fall_on_the_words_heard(app, alice, hub_mirror, worker):
    document = (
        '<speak>The lighthouse keeper <mark name="climb"/>climbed the stairs. '
        'He carried a <mark name="lamp"/>lamp.</speak>'
    )
    block = {"text": document, "provider": "kokoro", "voice": "jf_alpha"}
    job_id = completed(app, alice, {"blocks": [block]})
    audio = decode(app.get(f"/result/{job_id}/audio", headers=alice).content, RATE)
    timings = app.get(f"/result/{job_id}/timings", headers=alice).json()
    words = {w["text"]: w for w in timings["words"]}
    climb, lamp = timings["marks"]
    assert climb["start_ms"] == words["climbed"]["start_ms"]
    assert lamp["start_ms"] == words["lamp."]["start_ms"]
    assert 0 < climb["start_ms"] < lamp["start_ms"]
    for mark in (climb, lamp):  # speech is heard right after each mark
        at = round(mark["start_ms"] * RATE / 1000)
        assert rms(audio[at : at + RATE // 5]) > 500
    raw = document.encode()
    for mark in speech_marks(app, job_id, alice):
        written = raw[mark["start"] : mark["end"]].decode()
        if mark["type"] == "ssml":
            assert written == f'<mark name="{mark["value"]}"/>'
        else:  # a word; a sentence from its first word to its last, over the tags in it
            assert re.sub(r"<[^>]*>", "", written) == mark["value"]
