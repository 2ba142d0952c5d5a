"""Jobs that stop, and jobs that are resumed: stall detection and POST /tts/{id}/retry."""

from __future__ import annotations

import time

import pytest

from tests.helpers import create_job_behind_the_api, wait_for_job
from utils.accounts.slots import holder_id, parse_holder
from utils.jobs.models import BlockSpec
from utils.names import NETWORK_BLOCKS_QUEUE, job_key
from workers.account_slots import resend_stranded_blocks
from workers.housekeeping import check_stalled_jobs
from workers.lifecycle import worker_context

pytestmark = pytest.mark.pipeline

RACHEL = "21m00Tcm4TlvDq8ikWAM"


def test_a_job_whose_tasks_were_lost_is_failed_as_stalled_then_resumed(
    app, alice, service_redis, worker, monkeypatch
):
    """As if the broker lost every message: beat's check fails it, retry finishes it."""
    specs = [
        BlockSpec("Lost once.", "piper", "en_US-joe-medium", 200),
        BlockSpec("Found again.", "piper", "en_US-joe-medium"),
    ]
    job_id = create_job_behind_the_api(service_redis, "alice", specs)
    ctx = worker_context()
    assert check_stalled_jobs(ctx) == []  # within JOB_STALL_TIMEOUT: left alone
    monkeypatch.setattr(ctx.settings, "JOB_STALL_TIMEOUT", 1)
    time.sleep(1.2)
    assert check_stalled_jobs(ctx) == [job_id]
    status = app.get(f"/status/{job_id}", headers=alice).json()
    assert status["status"] == "failed"
    assert status["error"].startswith(
        "stalled: no progress for more than 1 s and none of its work is queued or running"
    )
    assert [b["status"] for b in status["blocks"]] == ["skipped", "skipped"]  # never ran

    response = app.post(f"/tts/{job_id}/retry", headers=alice)
    assert response.status_code == 202, response.text
    assert response.json()["retried_blocks"] == [0, 1]
    status = wait_for_job(app, job_id, alice)
    assert status["status"] == "completed" and "error" not in status
    assert check_stalled_jobs(ctx) == []  # a finished job is no longer watched


def test_retry_reruns_only_the_failed_blocks(app, alice, bob, simulator, worker):
    simulator.fault(401, times=1, path="/v1/text-to-speech")
    simulator.knobs(latency_ms=2000)  # the refusal comes after block 0 is well under way
    blocks = [
        {"text": "Kept as it is.", "wait_after_ms": 100},
        {"text": "Refused the first time.", "provider": "elevenlabs", "voice": RACHEL},
    ]
    job_id = app.post("/tts", headers=alice, json={"blocks": blocks}).json()["job_id"]
    assert wait_for_job(app, job_id, alice)["status"] == "failed"
    # a block already being spoken when the job failed still finishes, and is kept
    deadline = time.monotonic() + 30
    while app.get(f"/status/{job_id}", headers=alice).json()["blocks"][0]["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    simulator.knobs(latency_ms=0)

    assert app.post(f"/tts/{job_id}/retry", headers=bob).status_code == 404  # not bob's
    response = app.post(f"/tts/{job_id}/retry", headers=alice)
    assert response.json()["retried_blocks"] == [1]
    done = wait_for_job(app, job_id, alice)
    assert done["status"] == "completed"
    assert [b["attempts"] for b in done["blocks"]] == [1, 2]  # block 0 reused, not re-spoken
    assert simulator.stats()["tts_requests"] == 2
    again = app.post(f"/tts/{job_id}/retry", headers=alice)
    assert again.status_code == 409 and again.json()["status"] == "completed"


def test_a_job_whose_combine_failed_is_retried_by_combining_again(
    app, alice, service_redis, worker
):
    job_id = app.post(
        "/tts",
        headers=alice,
        json={
            "blocks": [
                {"text": "Made once.", "wait_after_ms": 100},
                {"text": "Kept for the retry."},
            ]
        },
    ).json()["job_id"]
    done = wait_for_job(app, job_id, alice)
    assert done["status"] == "completed"
    # as if the combine had failed after every block was made
    service_redis.hset(job_key(job_id), mapping={"status": "failed", "error": "combine failed"})

    response = app.post(f"/tts/{job_id}/retry", headers=alice)
    assert response.status_code == 202 and response.json()["retried_blocks"] == []
    again = wait_for_job(app, job_id, alice)
    assert again["status"] == "completed"
    assert [b["attempts"] for b in again["blocks"]] == [1, 1]  # nothing spoken twice
    assert service_redis.hget(job_key(job_id), "combine_runs") == "2"


LEASE_S = 60


@pytest.fixture
def full_account(service_redis, worker):
    """The "limited" account of tests/conftest.py with every slot taken by other holders
    (service_redis clears the account between tests)."""
    ctx = worker_context()
    limit = ctx.settings.PROVIDERS["limited"].concurrency
    others = [f"other-{i}" for i in range(limit)]
    for holder in others:
        assert ctx.slots.acquire("limited", holder, limit, LEASE_S).granted
    return ctx, limit, others


def test_a_block_handed_a_slot_by_a_worker_that_died_is_sent_again(
    app, alice, service_redis, simulator, full_account
):
    """The releaser hands the slot over in Redis, then dies before re-sending the task."""
    ctx, limit, others = full_account
    job_id = create_job_behind_the_api(
        service_redis, "alice", [BlockSpec("Handed over.", "limited", "alloy")]
    )
    block = holder_id(job_id, 0)
    assert not ctx.slots.acquire("limited", block, limit, LEASE_S).granted  # it waits
    assert ctx.slots.release("limited", others[0], limit, LEASE_S) == [block]
    # ... and nobody sends its task. Within the grace it is left alone:
    assert resend_stranded_blocks(ctx, grace_s=60) == []
    time.sleep(0.05)
    assert resend_stranded_blocks(ctx, grace_s=0.01) == [block]

    status = wait_for_job(app, job_id, alice)
    assert status["status"] == "completed", status
    assert simulator.stats()["tts_requests"] == 1
    # it ran in the slot handed to it: the other holders still have theirs, and it gave it back
    assert ctx.slots.in_use("limited") == limit - 1


def test_a_waiting_block_of_a_failed_job_passes_its_slot_on_at_once(
    app, alice, service_redis, simulator, full_account
):
    """Without this, each waiting block of a failed job would sit on a slot until its lease
    ran out, and a large failed job would starve everyone else on the account."""
    ctx, limit, others = full_account
    failed_job, next_job = (
        create_job_behind_the_api(service_redis, "alice", [BlockSpec(text, "limited", "alloy")])
        for text in ("Never spoken.", "Spoken next.")
    )
    for job_id in (failed_job, next_job):  # both wait, in this order
        assert not ctx.slots.acquire("limited", holder_id(job_id, 0), limit, LEASE_S).granted
    ctx.jobs.fail(failed_job, "block 3: limited: HTTP 401: invalid API key")

    for handed in ctx.slots.release("limited", others[0], limit, LEASE_S):
        ctx.queue.resend_block(
            *parse_holder(handed), NETWORK_BLOCKS_QUEUE
        )  # as the releasing worker does
    status = wait_for_job(app, next_job, alice)
    assert status["status"] == "completed", status
    assert simulator.stats()["tts_requests"] == 1  # only the next job's block was spoken
    assert ctx.slots.in_use("limited") == limit - 1
    assert resend_stranded_blocks(ctx, grace_s=0) == []  # nothing left stranded
