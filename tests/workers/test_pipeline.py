"""Jobs through HTTP, a real Redis and a real Celery worker process, with Piper speaking."""

from __future__ import annotations

import time
import uuid

import numpy as np
import pytest

from tests.audio_helpers import decode, ffmpeg_decode, rms
from tests.helpers import create_job_behind_the_api, wait_for_job
from utils.audio.formats import OutputFormat
from utils.audio.mp3_frames import iter_frames
from utils.audio.timeline import ENCODER_DELAY
from utils.jobs.models import BlockSpec
from utils.names import PROCESS_BLOCK
from workers.celery_app import app as celery_app

pytestmark = pytest.mark.pipeline

TEXTS = [
    "The first block is short.",
    "The second block follows right away, with no pause after the first.",
    "And the third block comes last.",
]
PAUSES = [0, 300, 700]
BOUNDARY_TOLERANCE_MS = 80


def submit(app, headers, blocks, **extra):
    response = app.post("/tts", headers=headers, json={"blocks": blocks, **extra})
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/status/{response.json()['job_id']}"
    assert response.json()["status"] == "queued"
    return response.json()["job_id"]


@pytest.fixture
def completed_job(app, alice, worker):
    blocks = [{"text": t, "wait_after_ms": p} for t, p in zip(TEXTS, PAUSES, strict=True)]
    job_id = submit(app, alice, blocks)
    status = wait_for_job(app, job_id, alice)
    assert status["status"] == "completed", status
    return job_id, status


def test_a_three_block_job_becomes_one_mp3_with_exact_pauses(app, alice, completed_job):
    job_id, status = completed_job
    assert status["progress"] == "3/3"
    assert [b["status"] for b in status["blocks"]] == ["completed"] * 3

    result = app.get(f"/result/{job_id}", headers=alice).json()
    fmt = OutputFormat.parse(result["output_format"])
    audio = app.get(f"/result/{job_id}/audio", headers=alice)
    assert audio.headers["content-type"] == "audio/mpeg"
    assert f'filename="tts-{job_id}.mp3"' in audio.headers["content-disposition"]
    headers = [h for _, h in iter_frames(audio.content)]
    assert {(h.sample_rate, h.bitrate_kbps, h.mono) for h in headers} == {(24000, 64, True)}
    assert sum(h.length for h in headers) == len(audio.content)  # nothing but audio frames

    samples = decode(audio.content, fmt.sample_rate)
    duration_ms = samples.size * 1000 / fmt.sample_rate
    speech_ms = sum(b["duration_ms"] for b in result["blocks"])
    assert speech_ms == sum(b["duration_ms"] for b in status["blocks"])
    # blocks + pauses, plus at most 80 ms at each of the 4 boundaries (start, between, end)
    assert 0 <= duration_ms - speech_ms - sum(PAUSES) <= BOUNDARY_TOLERANCE_MS * 4
    assert abs(result["duration_ms"] - duration_ms) <= 1
    # ffmpeg (what browsers use) agrees on the length
    assert (
        abs(ffmpeg_decode(audio.content, fmt.sample_rate).size - samples.size)
        <= fmt.samples_per_frame
    )

    blocks = result["blocks"]
    for block in blocks:
        assert block["end_ms"] - block["start_ms"] == pytest.approx(block["duration_ms"], abs=1)
    for here, after, pause in zip(blocks, blocks[1:], PAUSES, strict=False):
        gap = after["start_ms"] - here["end_ms"]
        if pause >= 100:
            assert abs(gap - pause) <= 30, (here, after)
        else:
            assert 0 <= gap - pause <= BOUNDARY_TOLERANCE_MS


def test_block_offsets_point_at_each_block_in_order(app, alice, completed_job):
    """Each block's own MP3, decoded, matches the final audio at its start_ms..end_ms."""
    job_id, _ = completed_job
    result = app.get(f"/result/{job_id}", headers=alice).json()
    rate = OutputFormat.parse(result["output_format"]).sample_rate
    final = decode(app.get(f"/result/{job_id}/audio", headers=alice).content, rate)
    block_audio = []
    for block in result["blocks"]:
        response = app.get(f"/result/{job_id}/block/{block['index']}/audio", headers=alice)
        assert response.status_code == 200
        block_audio.append(decode(response.content, rate))
    for block, own in zip(result["blocks"], block_audio, strict=True):
        start = round(block["start_ms"] * rate / 1000)
        end = round(block["end_ms"] * rate / 1000)
        in_final = final[start:end].astype(float)
        speech = own[ENCODER_DELAY : ENCODER_DELAY + end - start].astype(float)
        # the same samples: correlation near 1 at this offset ...
        assert np.corrcoef(in_final, speech)[0, 1] > 0.95
        # ... and not at another block's offset (so the order is right too)
        for other in result["blocks"]:
            if other["index"] != block["index"]:
                o_start = round(other["start_ms"] * rate / 1000)
                elsewhere = final[o_start : o_start + speech.size].astype(float)
                if elsewhere.size == speech.size:
                    assert np.corrcoef(elsewhere, speech)[0, 1] < 0.5
    # silence where a pause was asked for
    last_gap = final[
        round(result["blocks"][1]["end_ms"] * rate / 1000) + 600 : round(
            result["blocks"][2]["start_ms"] * rate / 1000
        )
        - 600
    ]
    assert rms(last_gap) < 0.05 * rms(final)


def test_range_requests_let_players_seek(app, alice, completed_job):
    job_id, _ = completed_job
    whole = app.get(f"/result/{job_id}/audio", headers=alice).content
    part = app.get(f"/result/{job_id}/audio", headers={**alice, "Range": "bytes=100-299"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-299/{len(whole)}"
    assert part.content == whole[100:300]


def test_another_user_cannot_see_the_job(app, alice, bob, completed_job):
    job_id, _ = completed_job
    for path in (
        f"/status/{job_id}",
        f"/result/{job_id}",
        f"/result/{job_id}/audio",
        f"/result/{job_id}/block/0/audio",
    ):
        assert app.get(path, headers=bob).status_code == 404
        assert app.get(path, headers=alice).status_code == 200


def test_results_are_409_until_completed_and_404_when_unknown(app, alice, service_redis):
    # a job no task has touched yet: it stays queued for as long as the test looks
    job_id = create_job_behind_the_api(
        service_redis, "alice", [BlockSpec("Not yet.", "piper", "en_US-joe-medium")]
    )
    for path in (f"/result/{job_id}", f"/result/{job_id}/audio", f"/result/{job_id}/block/0/audio"):
        early = app.get(path, headers=alice)
        assert (early.status_code, early.json()["status"]) == (409, "queued"), path
    assert app.get(f"/result/{job_id}/block/1/audio", headers=alice).status_code == 404
    assert app.get(f"/result/{uuid.uuid4()}", headers=alice).status_code == 404


def test_a_failing_block_fails_the_job_with_its_reason(app, alice, service_redis, worker):
    """A block the provider refuses (bypassing the API's checks) fails the job; it never hangs."""
    specs = [
        BlockSpec("Fine.", "piper", "en_US-joe-medium"),
        BlockSpec("Broken.", "piper", "no-such-voice"),
    ]
    job_id = create_job_behind_the_api(service_redis, "alice", specs)
    for index in range(2):
        celery_app.send_task(PROCESS_BLOCK, args=[job_id, index])
    status = wait_for_job(app, job_id, alice, timeout_s=60)
    assert status["status"] == "failed"
    assert status["error"].startswith("block 1: piper: unknown voice 'no-such-voice'")
    assert status["blocks"][1]["status"] == "failed"
    assert app.get(f"/result/{job_id}", headers=alice).status_code == 409


def test_a_redelivered_block_changes_nothing(app, alice, service_redis, completed_job, worker):
    """The same task again (as after a lost ack) neither recounts nor re-combines."""
    job_id, status = completed_job
    before = app.get(f"/result/{job_id}/audio", headers=alice).content
    updated = status["updated_at"]
    for index in range(3):
        celery_app.send_task(PROCESS_BLOCK, args=[job_id, index])
    # each redelivered task has run once it says it skipped its block
    skipped = [f"job {job_id} is completed; skipping block {i}" for i in range(3)]
    deadline = time.monotonic() + 30
    while not all(line in worker.log_path.read_text() for line in skipped):
        assert time.monotonic() < deadline, "the redelivered tasks did not run"
        time.sleep(0.1)
    after = app.get(f"/status/{job_id}", headers=alice).json()
    assert after["status"] == "completed" and after["progress"] == "3/3"
    assert [b["attempts"] for b in after["blocks"]] == [1, 1, 1]
    assert after["updated_at"] == updated
    assert app.get(f"/result/{job_id}/audio", headers=alice).content == before
