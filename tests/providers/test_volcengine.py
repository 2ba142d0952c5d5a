"""Volcano Engine over real HTTP against the simulator's /api/v1/tts."""

import threading
import uuid

import httpx
import numpy as np
import pytest
from pydantic import ValidationError

from config import ProviderConfig
from simulator.audio import speech_seconds, voice_frequency
from tests.conftest import PROVIDERS, SIMULATOR_URL, TEST_API_KEY, TEST_VOLC_APP_ID
from utils.audio.pcm import to_pcm
from utils.embedded_redis import free_port
from utils.errors import ProviderRejected, ProviderRetryable
from workers.providers import ProviderRegistry, SynthesisRequest
from workers.providers.text_pieces import split_text
from workers.providers.volcengine import volcengine_error

TEXT = "The quick brown fox jumps over the lazy dog."
VOICE = "BV002_streaming"


def provider_with(**overrides):
    config = ProviderConfig(**{**PROVIDERS["volcengine"], **overrides})
    return ProviderRegistry({"volcengine": config}).get("volcengine")


@pytest.fixture
def volc(simulator):
    return provider_with()


def peak_hz(samples, rate):
    spectrum = np.abs(np.fft.rfft(samples.astype(float)))
    return np.argmax(spectrum) * rate / samples.size


def sent(simulator):
    return [r for r in simulator.stats()["recent"] if r["api"] == "volcengine"]


def test_speaks_raw_pcm_at_24khz_as_the_docs_ask(volc, simulator):
    audio = volc.synthesize(SynthesisRequest(TEXT, VOICE))
    assert (audio.encoding, audio.sample_rate) == ("pcm_s16le", 24000)
    samples = to_pcm(audio, 24000)
    assert samples.size == int(speech_seconds(TEXT) * 24000)
    assert abs(peak_hz(samples, 24000) - voice_frequency(VOICE)) < 3
    [request] = sent(simulator)
    assert request["appid"] == TEST_VOLC_APP_ID and request["cluster"] == "volcano_tts"
    assert (request["encoding"], request["rate"], request["voice"]) == ("pcm", 24000, VOICE)
    assert (request["operation"], request["text_type"]) == ("query", "plain")
    assert request["uid"] == "volcengine" and uuid.UUID(request["reqid"])


def test_speed_is_the_speed_ratio(volc, simulator):
    audio = volc.synthesize(SynthesisRequest(TEXT, VOICE, speed=1.5))
    assert to_pcm(audio, 24000).size == int(speech_seconds(TEXT, 1.5) * 24000)
    assert sent(simulator)[-1]["speed_ratio"] == 1.5


def test_every_request_has_its_own_reqid_and_a_reused_one_is_refused(volc, simulator):
    volc.synthesize(SynthesisRequest(TEXT, VOICE))
    volc.synthesize(SynthesisRequest(TEXT, VOICE))
    first, second = sent(simulator)
    assert first["reqid"] != second["reqid"]
    # the simulator holds the service's rule the fresh reqids are for
    body = {
        "app": {"appid": TEST_VOLC_APP_ID, "token": "t", "cluster": "volcano_tts"},
        "user": {"uid": "u"},
        "audio": {"voice_type": VOICE, "encoding": "pcm"},
        "request": {"reqid": first["reqid"], "text": TEXT, "operation": "query"},
    }
    headers = {"Authorization": f"Bearer;{TEST_API_KEY}"}
    answer = httpx.post(f"{SIMULATOR_URL}/api/v1/tts", json=body, headers=headers).json()
    assert answer["code"] == 3006


def test_a_block_past_the_1024_byte_limit_is_spoken_in_pieces(volc, simulator):
    sentence = "火山引擎把这句话读出来。"  # 12 characters, 36 bytes
    text = sentence * 100  # 3600 bytes: four requests
    audio = volc.synthesize(SynthesisRequest(text, VOICE))
    requests = sent(simulator)
    assert len(requests) == 4
    assert all(len(r["text"].encode()) <= 1024 for r in requests)
    assert "".join(r["text"] for r in requests) == text  # cut between sentences, none lost
    expected = sum(int(speech_seconds(r["text"]) * 24000) for r in requests)
    assert to_pcm(audio, 24000).size == expected


def test_words_come_from_the_timestamps_the_api_returns_on_request(volc, simulator):
    text = "Good morning, Zoë. It is 42 degrees."
    audio = volc.synthesize(SynthesisRequest(text, VOICE))
    assert sent(simulator)[-1]["with_frontend"] == 1  # the timestamps were asked for
    marks = audio.marks
    assert marks is not None and marks.source == "aligned"
    said = [text[w.char_start : w.char_end] for w in marks.words]
    # the engine's words, punctuation left out
    assert said == ["Good", "morning", "Zoë", "It", "is", "42", "degrees"]
    samples = to_pcm(audio, 24000).size
    assert all(0 <= w.start < w.end <= samples for w in marks.words)
    assert [w.start for w in marks.words] == sorted(w.start for w in marks.words)
    # where the simulator says each word is: its characters' share of the tone
    step = samples / len(text)
    for word in marks.words:
        assert abs(word.start - word.char_start * step) <= step
    assert [(s.char_start, s.char_end) for s in marks.sentences] == [(0, 18), (19, 36)]


def test_words_of_a_long_block_are_placed_in_its_pieces(volc, simulator):
    sentence = "火山引擎把这句话读出来。"
    text = sentence * 100  # four requests
    audio = volc.synthesize(SynthesisRequest(text, VOICE))
    words = audio.marks.words
    assert len(words) == 1100  # one per Chinese character, punctuation left out
    assert [text[w.char_start : w.char_end] for w in words[:4]] == ["火", "山", "引", "擎"]
    assert all(a.start <= b.start for a, b in zip(words, words[1:], strict=False))
    assert words[-1].end <= to_pcm(audio, 24000).size


def test_text_is_cut_at_sentences_then_spaces_then_characters():
    assert split_text("One. Two! Three?", 8) == ["One.", "Two!", "Three?"]
    assert split_text("a few words with no stop", 10) == ["a few", "words", "with no", "stop"]
    assert split_text("é" * 5, 4) == ["éé", "éé", "é"]  # never half a character


def test_a_wrong_token_is_rejected_with_401_and_never_shown(simulator):
    simulator.knobs(api_key="the-right-token")
    volc = provider_with()
    with pytest.raises(ProviderRejected) as caught:
        volc.synthesize(SynthesisRequest(TEXT, VOICE))
    assert caught.value.status_code == 401
    assert str(caught.value) == (
        "volcengine: HTTP 401: code 3001: "
        "authenticate request: load grant: requested grant not found"
    )
    assert TEST_API_KEY not in str(caught.value)


def test_a_message_quoting_the_token_is_redacted(volc, simulator):
    simulator.fault(200, code=3001, message=f"bad token {TEST_API_KEY}")
    with pytest.raises(ProviderRejected) as caught:
        volc.synthesize(SynthesisRequest(TEXT, VOICE))
    assert str(caught.value) == "volcengine: code 3001: bad token [redacted]"


def test_an_appid_not_granted_the_service_and_an_unknown_cluster_are_rejected(simulator):
    simulator.knobs(app_id="another-app")
    with pytest.raises(ProviderRejected, match="HTTP 403: code 3001: .*not granted"):
        provider_with().synthesize(SynthesisRequest(TEXT, VOICE))
    simulator.knobs(app_id=None)
    with pytest.raises(ProviderRejected, match="code 3001: .*Init Engine Instance failed"):
        provider_with(cluster="volcano_nowhere").synthesize(SynthesisRequest(TEXT, VOICE))


@pytest.mark.parametrize(
    ("status", "code", "message", "retryable"),
    [
        (200, 3003, "quota exceeded for types: concurrency", True),
        (429, 3003, "too many requests", True),
        (200, 3005, "server busy", True),
        (500, 3006, "service interrupted", True),
        (200, 3030, "processing timeout", True),
        (500, 3031, "processing error", True),
        (504, 3032, "wait audio timeout", True),
        (502, 3040, "backend connection error", True),
        (400, 3001, "invalid operation", False),
        (200, 3010, "text too long", False),
        (400, 3011, "illegal input text!", False),
        (200, 3050, "voice_type not found", False),
        (403, 3001, "quota exceeded for types: concurrency", True),  # the message decides
        (403, 3001, "quota exceeded for types: tts_lifetime", False),
        (200, 3999, "a code the docs do not list", False),
    ],
)
def test_each_error_code_is_sorted_and_keeps_the_vendors_words(
    volc, simulator, status, code, message, retryable
):
    simulator.fault(status, code=code, message=message)
    with pytest.raises(ProviderRetryable if retryable else ProviderRejected) as caught:
        volc.synthesize(SynthesisRequest(TEXT, VOICE))
    prefix = "volcengine" if status == 200 else f"volcengine: HTTP {status}"
    assert str(caught.value) == f"{prefix}: code {code}: {message}"
    assert caught.value.status_code == (None if status == 200 else status)


def test_http_statuses_decide_for_answers_without_a_vendor_code(volc, simulator):
    simulator.fault(429, retry_after_s=2.5)  # the simulator answers code 3003 for it
    with pytest.raises(ProviderRetryable) as caught:
        volc.synthesize(SynthesisRequest(TEXT, VOICE))
    assert (caught.value.status_code, caught.value.retry_after_s) == (429, 2.5)
    simulator.fault(503, message="upstream overloaded", retry_after_s=1)
    with pytest.raises(ProviderRetryable) as caught:
        volc.synthesize(SynthesisRequest(TEXT, VOICE))
    assert str(caught.value) == "volcengine: HTTP 503: upstream overloaded"
    assert caught.value.retry_after_s == 1
    simulator.fault(403, message="extract request resource id: get resource id: access denied")
    with pytest.raises(ProviderRejected, match="HTTP 403: extract request"):
        volc.synthesize(SynthesisRequest(TEXT, VOICE))


def test_over_the_accounts_limit_is_retryable(simulator):
    simulator.knobs(latency_ms=400, max_in_flight=1)
    volc = provider_with()
    outcomes = []

    def speak():
        try:
            volc.synthesize(SynthesisRequest(TEXT, VOICE))
            outcomes.append("ok")
        except ProviderRetryable as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=speak) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [
        "ok",
        "volcengine: HTTP 429: code 3003: too many concurrent requests",
    ]
    assert simulator.stats()["rejected_over_limit"] == 1


def test_success_without_audio_is_retryable(volc, simulator):
    simulator.fault(200, code=3000, message="Success")
    with pytest.raises(ProviderRetryable, match="success without audio"):
        volc.synthesize(SynthesisRequest(TEXT, VOICE))


def test_an_unreachable_server_and_a_slow_one_are_retryable(simulator):
    with pytest.raises(ProviderRetryable, match="connection failed"):
        provider_with(base_url=f"http://127.0.0.1:{free_port()}", timeout_s=2).synthesize(
            SynthesisRequest(TEXT, VOICE)
        )
    simulator.knobs(latency_ms=1500)
    with pytest.raises(ProviderRetryable, match="timed out"):
        provider_with(timeout_s=0.5).synthesize(SynthesisRequest(TEXT, VOICE))


def test_voices_are_built_in_or_the_entrys_own(volc):
    voices = {v.id: v for v in volc.voices()}
    assert volc.default_voice == "BV001_streaming"
    assert voices["BV001_streaming"].name == "通用女声"
    assert voices["BV503_streaming"].language == "en_US"
    assert {"BV700_streaming", "BV406_streaming", "BV407_streaming"} <= set(voices)
    own = provider_with(voices=["S_myclone1", "BV002_streaming"])
    assert own.voice_ids() == ["S_myclone1", "BV002_streaming"]
    assert own.default_voice == "S_myclone1"
    assert [v.name for v in own.voices()] == ["S_myclone1", "通用男声"]


def test_an_entry_needs_its_app_id_and_token():
    with pytest.raises(ValidationError, match="needs app_id and api_key"):
        ProviderConfig(type="volcengine", api_key="token")
    with pytest.raises(ValidationError, match="needs app_id and api_key"):
        ProviderConfig(type="volcengine", app_id="123")


def test_cluster_and_app_id_are_part_of_the_audio_identity(simulator):
    assert provider_with().audio_identity() != provider_with(cluster="volcano_icl").audio_identity()
    assert provider_with().audio_identity() != provider_with(app_id="42").audio_identity()


def test_answers_that_are_not_the_apis_json_go_by_their_status():
    proxy_ok = volcengine_error("volcengine", 200, None, "<html>cut off", TEST_API_KEY)
    assert isinstance(proxy_ok, ProviderRetryable)
    assert str(proxy_ok) == "volcengine: answer without a code: <html>cut off"
    bad_gateway = volcengine_error("volcengine", 502, None, "<html>Bad Gateway", TEST_API_KEY)
    assert isinstance(bad_gateway, ProviderRetryable) and bad_gateway.status_code == 502
    refused = volcengine_error("volcengine", 401, None, f"no {TEST_API_KEY}", TEST_API_KEY)
    assert isinstance(refused, ProviderRejected)
    assert str(refused) == "volcengine: HTTP 401: no [redacted]"
