"""Pronunciation lexicons through the service: kept per user, refused when wrong, and heard:
an alias reaching a text provider, phonemes reaching Piper and Kokoro, <phoneme> in SSML, a new
version never served from the cache, timings on the user's own words."""

from __future__ import annotations

import pytest

from tests.audio_helpers import decode
from tests.helpers import wait_for_job
from utils.names import block_key

pytestmark = pytest.mark.pipeline

PLS = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
         alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>SQL</grapheme><alias>sequel</alias></lexeme>
  <lexeme><grapheme>Nguyen</grapheme><phoneme>wɪn</phoneme></lexeme>
</lexicon>"""
RULES = {
    "name": "names",
    "language": "en-US",
    "rules": [
        {"grapheme": "SQL", "alias": "sequel"},
        {"grapheme": "Nguyen", "phoneme": "wIn", "alphabet": "x-sampa"},
    ],
}


def _save(app, headers, body=RULES):
    response = app.post("/lexicons", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _done(app, headers, body) -> dict:
    response = app.post("/tts", headers=headers, json=body)
    assert response.status_code == 202, response.text
    status = wait_for_job(app, response.json()["job_id"], headers, timeout_s=180)
    assert status["status"] == "completed", status
    return status


def test_lexicons_are_kept_listed_read_and_deleted_per_user(app, alice, bob):
    saved = _save(app, alice)
    assert saved["rule_count"] == 2
    pls = app.post(
        "/lexicons?name=pls-names",
        headers={**alice, "Content-Type": "application/pls+xml"},
        content=PLS.encode(),
    )
    assert pls.status_code == 201, pls.text
    listed = app.get("/lexicons", headers=alice).json()
    assert [x["name"] for x in listed["lexicons"]] == ["names", "pls-names"]
    one = app.get("/lexicons/names", headers=alice).json()
    assert one["rules"][1] == {"grapheme": "Nguyen", "phoneme": "wIn", "alphabet": "x-sampa"}
    document = app.get("/lexicons/pls-names?format=pls", headers=alice)
    assert document.headers["content-type"].startswith("application/pls+xml")
    assert "<alias>sequel</alias>" in document.text
    # an edit changes the version
    assert _save(app, alice)["version"] != saved["version"]
    # bob sees none of alice's
    assert app.get("/lexicons", headers=bob).json()["lexicons"] == []
    assert app.get("/lexicons/names", headers=bob).status_code == 404
    assert app.delete("/lexicons/names", headers=bob).status_code == 404
    assert app.delete("/lexicons/names", headers=alice).status_code == 204
    assert app.get("/lexicons/names", headers=alice).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({**RULES, "rules": [{"grapheme": "a", "phoneme": "x", "alphabet": "arpabet"}]},
         "alphabet", "allowed: ipa, x-sampa"),
        ({**RULES, "rules": [{"grapheme": "a", "phoneme": "a$", "alphabet": "x-sampa"}]},
         "phoneme", "unknown X-SAMPA symbol"),
        ({**RULES, "rules": []}, "rules", "non-empty"),
        ({**RULES, "name": "a b"}, "name", "letters, digits"),
        ({**RULES, "colour": 1}, "colour", "allowed: name, language, rules"),
    ],
)  # fmt: skip
def test_bad_lexicons_are_422_naming_the_field(app, alice, body, field, words):
    response = app.post("/lexicons", headers=alice, json=body)
    assert response.status_code == 422, response.text
    assert field in response.text and words in response.text


def test_malformed_pls_and_oversized_lexicons_are_refused(app, alice):
    xml = {**alice, "Content-Type": "application/pls+xml"}
    bomb = '<!DOCTYPE l [<!ENTITY a "aaaa">]><lexicon>&a;</lexicon>'
    response = app.post("/lexicons?name=x", headers=xml, content=bomb.encode())
    assert response.status_code == 422 and "DTDs" in response.text
    response = app.post("/lexicons?name=x", headers=xml, content=b"<lexicon><lexeme>")
    assert response.status_code == 422 and "well-formed" in response.text
    huge = {**RULES, "rules": [{"grapheme": f"w{i}", "alias": "x" * 150} for i in range(2000)]}
    response = app.post("/lexicons", headers=alice, json=huge)
    assert response.status_code == 422 and "LEXICON_MAX_BYTES" in response.text
    assert app.get("/lexicons", headers=alice).json()["lexicons"] == []


def test_a_job_naming_an_unknown_or_unsayable_lexicon_is_422(app, alice, bob):
    _save(app, bob)
    body = {"blocks": [{"text": "Ask Nguyen."}], "lexicons": ["names"]}
    response = app.post("/tts", headers=alice, json=body)
    assert response.status_code == 422
    assert "lexicons" in response.text and "unknown lexicon 'names'" in response.text
    # phonemes without an alias, for a provider that takes text only
    body = {"blocks": [{"text": "Ask Nguyen.", "provider": "openai"}], "lexicons": ["names"]}
    response = app.post("/tts", headers=bob, json=body)
    assert response.status_code == 422, response.text
    assert "'openai' takes text only" in response.text and "blocks[0].text" in response.text
    # a symbol the Piper voice has no equivalent of
    rules = {**RULES, "name": "clicks", "rules": [{"grapheme": "Xhosa", "phoneme": "aʬ"}]}
    _save(app, bob, rules)
    body = {"blocks": [{"text": "Say Xhosa."}], "lexicons": ["clicks"]}
    response = app.post("/tts", headers=bob, json=body)
    assert response.status_code == 422 and "the voice has no phoneme 'ʬ'" in response.text


def test_an_alias_reaches_a_text_provider_and_timings_keep_the_users_words(
    app, alice, worker, simulator
):
    _save(app, alice)
    text = "We query SQL daily."
    status = _done(
        app, alice, {"blocks": [{"text": text, "provider": "elevenlabs"}], "lexicons": ["names"]}
    )
    calls = [c for c in simulator.stats()["recent"] if c["api"] == "elevenlabs"]
    assert [c["text"] for c in calls] == ["We query sequel daily."]
    timings = app.get(f"/result/{status['job_id']}/timings", headers=alice).json()
    assert [w["text"] for w in timings["words"]] == ["We", "query", "SQL", "daily."]
    assert timings["sentences"][0]["text"] == text


def test_speech_endpoint_applies_lexicons(app, alice, worker, simulator):
    _save(app, alice)
    body = {"model": "openai/tts-1", "voice": "alloy", "input": "Learn SQL now.",
            "response_format": "pcm", "lexicons": ["names"]}  # fmt: skip
    response = app.post("/v1/audio/speech", headers=alice, json=body)
    assert response.status_code == 200, response.text
    calls = [c for c in simulator.stats()["recent"] if c["api"] == "openai"]
    assert [c["text"] for c in calls] == ["Learn sequel now."]
    # 400, as OpenAI refuses a request (api/speech/errors.py)
    refused = app.post("/v1/audio/speech", headers=alice, json={**body, "lexicons": ["nope"]})
    assert refused.status_code == 400 and "unknown lexicon 'nope'" in refused.text


def test_phonemes_reach_piper_and_an_edit_is_made_anew(app, alice, worker, service_redis):
    plain = _done(app, alice, {"blocks": [{"text": "Ask Nguyen."}]})
    _save(app, alice)
    job = {"blocks": [{"text": "Ask Nguyen."}], "lexicons": ["names"]}
    first = _done(app, alice, job)
    said = service_redis.hget(block_key(first["job_id"], 0), "said")
    assert said == "Ask [[ wɪn ]]."
    assert service_redis.hget(block_key(first["job_id"], 0), "text") == "Ask Nguyen."
    audio = [app.get(f"/result/{s['job_id']}/audio", headers=alice).content for s in (plain, first)]
    assert audio[0] != audio[1]
    again = _done(app, alice, job)
    assert again["blocks"][0]["cached"]  # the same lexicon version: from the cache
    _save(app, alice, {**RULES, "rules": [{"grapheme": "Nguyen", "phoneme": "ŋwiən"}]})
    edited = _done(app, alice, job)
    assert not edited["blocks"][0]["cached"]  # a new version: made anew
    assert "ŋ" in service_redis.hget(block_key(edited["job_id"], 0), "said")


def test_ssml_phoneme_and_lookup(app, alice, worker, service_redis):
    _save(app, alice)
    ssml = (
        "<speak>Hello <phoneme alphabet='x-sampa' ph='t@\"mA:toU'>tomato</phoneme>. "
        '<lookup ref="names">Ask Nguyen.</lookup></speak>'
    )
    status = _done(app, alice, {"ssml": ssml})
    said = [
        service_redis.hget(block_key(status["job_id"], b["index"]), "said")
        for b in status["blocks"]
    ]
    assert any("[[ təˈmɑːtoʊ ]]" in (s or "") for s in said)
    assert any("[[ wɪn ]]" in (s or "") for s in said)
    texts = [service_redis.hget(block_key(status["job_id"], b["index"]), "text") for b in
             status["blocks"]]  # fmt: skip
    assert "tomato" in " ".join(texts) and "\ue000" not in "".join(texts)
    bad = app.post("/tts", headers=alice, json={"ssml": '<speak><phoneme alphabet="klingon" '
                   'ph="x">a</phoneme></speak>'})  # fmt: skip
    assert bad.status_code == 422 and "allowed: ipa, x-sampa" in bad.text


def test_phonemes_reach_kokoro(app, alice, hub_mirror, worker, service_redis):
    _save(app, alice)
    job = {
        "blocks": [{"text": "Ask Nguyen today.", "provider": "kokoro", "voice": "jf_alpha"}],
        "lexicons": ["names"],
    }
    status = _done(app, alice, job)
    assert "[[ wɪn ]]" in service_redis.hget(block_key(status["job_id"], 0), "said")
    audio = decode(app.get(f"/result/{status['job_id']}/audio", headers=alice).content, 24000)
    assert audio.size > 0
    words = app.get(f"/result/{status['job_id']}/timings", headers=alice).json()["words"]
    assert [w["text"] for w in words] == ["Ask", "Nguyen", "today."]


def test_the_input_stream_applies_its_pronunciation_dictionaries(app, alice, worker, simulator):
    """ElevenLabs' pronunciation_dictionary_locators name the user's lexicons: the alias
    reaches the provider, the alignment keeps the user's words; an unknown one is refused."""
    import json

    _save(app, alice)
    url = "/v1/text-to-speech/openai%2Falloy/stream-input?output_format=pcm_24000"
    key = {"xi-api-key": alice["Authorization"][7:]}
    opening = {"text": " ", "pronunciation_dictionary_locators": [
        {"pronunciation_dictionary_id": "names", "version_id": "latest"}]}  # fmt: skip
    with app.websocket_connect(url, headers=key) as ws:
        ws.send_text(json.dumps(opening))
        ws.send_text(json.dumps({"text": "Learn SQL today. "}))
        ws.send_text(json.dumps({"text": ""}))
        messages = []
        while not messages or not messages[-1].get("isFinal"):
            messages.append(json.loads(ws.receive_text()))
        assert ws.receive()["type"] == "websocket.close"  # the server ends the stream
    calls = [c for c in simulator.stats()["recent"] if c["api"] == "openai"]
    assert [c["text"] for c in calls] == ["Learn sequel today."]
    said = "".join("".join(m["alignment"]["chars"]) for m in messages if m.get("alignment"))
    assert said.strip() == "Learn SQL today."

    unknown = {**opening, "pronunciation_dictionary_locators": [
        {"pronunciation_dictionary_id": "nope"}]}  # fmt: skip
    with app.websocket_connect(url, headers=key) as ws:
        ws.send_text(json.dumps(unknown))
        error = json.loads(ws.receive_text())
        assert "unknown lexicon 'nope'" in error["message"], error
        assert ws.receive()["type"] == "websocket.close"
