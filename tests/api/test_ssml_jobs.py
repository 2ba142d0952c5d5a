"""SSML through the API: compiled at submit into blocks whose pauses are exact in the decoded
audio, volumes applied, and refusals naming where and what is allowed."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from tests.helpers import wait_for_job

pytestmark = pytest.mark.pipeline

RATE = 24000


def decoded(app, headers, job_id: str) -> np.ndarray:
    data = app.get(f"/result/{job_id}/audio", headers=headers).content
    with av.open(io.BytesIO(data)) as container:
        return np.concatenate(
            [f.to_ndarray().reshape(-1) for f in container.decode(container.streams.audio[0])]
        )


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def test_a_job_of_ssml_has_its_breaks_as_exact_silence(app, alice, worker):
    ssml = (
        '<speak version="1.1" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US">'
        '<p>First part.<break time="700ms"/></p><p>Second part, <sub alias="Doctor">Dr.</sub> '
        'Who.<break strength="strong"/></p><prosody rate="slow">Slowly now.</prosody></speak>'
    )
    submitted = app.post("/tts", json={"ssml": ssml, "output_format": "wav_24000"}, headers=alice)
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["job_id"]
    status = wait_for_job(app, job_id, alice)
    assert status["status"] == "completed", status
    result = app.get(f"/result/{job_id}", headers=alice).json()
    blocks = result["blocks"]
    assert len(blocks) == 3
    samples = decoded(app, alice, job_id)
    for here, after, pause in zip(blocks[:-1], blocks[1:], (700, 800), strict=True):
        assert after["start_ms"] - here["end_ms"] == pause
        # digital silence where the timeline put it (offsets are rounded to the ms)
        gap = samples[(here["end_ms"] + 1) * RATE // 1000 : (after["start_ms"] - 1) * RATE // 1000]
        assert gap.size == (pause - 2) * RATE // 1000 and not gap.any()
    status_blocks = app.get(f"/status/{job_id}", headers=alice).json()["blocks"]
    assert status_blocks[2]["duration_ms"] > 0


def test_prosody_volume_is_applied_on_the_worker(app, alice, worker):
    ssml = (
        "<speak>The same words at two volumes.<break time='300ms'/>"
        "<prosody volume='-6dB'>The same words at two volumes.</prosody></speak>"
    )
    job = app.post("/tts", json={"ssml": ssml, "output_format": "wav_24000"}, headers=alice).json()
    assert wait_for_job(app, job["job_id"], alice)["status"] == "completed"
    blocks = app.get(f"/result/{job['job_id']}", headers=alice).json()["blocks"]
    samples = decoded(app, alice, job["job_id"])
    loud, soft = (
        samples[b["start_ms"] * RATE // 1000 : b["end_ms"] * RATE // 1000] for b in blocks
    )
    ratio = rms(soft) / rms(loud)
    assert 0.4 < ratio < 0.62, ratio  # -6 dB is 0.50 (the voice varies a little between takes)


def test_ssml_in_a_block_keeps_the_block_settings_and_its_id(app, alice, service_redis):
    block = {
        "text": "<speak>One.<break time='250ms'/>Two.</speak>",
        "wait_after_ms": 400,
        "speed": 1.25,
        "id": "intro",
        "chapter": "Opening",
    }
    job = app.post("/tts", json={"blocks": [block, {"text": "Three."}]}, headers=alice).json()
    status = app.get(f"/status/{job['job_id']}", headers=alice).json()
    assert [b.get("id") for b in status["blocks"]] == ["intro", "intro.1", None]
    # the chapter opens with the block's first words, not again at each of its parts
    assert [b.get("chapter") for b in status["blocks"]] == ["Opening", None, None]
    raw = [service_redis.hgetall(f"tts:job:{job['job_id']}:block:{i}") for i in range(3)]
    assert [r["text"] for r in raw] == ["One.", "Two.", "Three."]
    assert [int(r["wait_after_ms"]) for r in raw] == [250, 400, 0]
    assert [float(r["speed"]) for r in raw[:2]] == [1.25, 1.25]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"ssml": "<speak>Hi <audio src='x'/></speak>"}, "ssml", "line 1, column 11"),
        ({"ssml": "<speak>Hi <audio src='x'/></speak>"}, "ssml", "say-as, emphasis"),
        ({"ssml": "<speak>Hi"}, "ssml", "not well-formed"),
        (
            {
                "blocks": [
                    {"text": "Fine."},
                    {"text": "<speak><voice name='nobody'>x</voice></speak>"},
                ]
            },
            "blocks[1].text",
            "unknown voice 'nobody'",
        ),
        (
            {"ssml": "<speak><lang xml:lang='de-DE'>Hallo</lang></speak>"},
            "ssml",
            "no voice of provider 'piper' speaks 'de-DE'",
        ),
        ({"ssml": "<speak>x</speak>", "blocks": [{"text": "y"}]}, "ssml", "not both"),
        ({"ssml": "<speak>One<break time='20s'/>two</speak>"}, "ssml", "wait_after_ms"),
    ],
)
def test_invalid_ssml_is_422_naming_where(app, alice, body, field, words):
    response = app.post("/tts", json=body, headers=alice)
    assert response.status_code == 422, response.text
    problems = response.json()["detail"]
    assert any(p["field"] == field and words in p["msg"] for p in problems), problems
