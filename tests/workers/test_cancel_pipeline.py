"""Cancelling jobs (DELETE /jobs/{id}) through HTTP, a real Redis and real worker processes:
a long Piper job stops where it is; a cloud job waiting for a limited account's slots gives
them back at once to another user's job; ?purge=true deletes the audio; the owner alone may
cancel; a finished job is a 409; the webhook says job.cancelled."""

from __future__ import annotations

import json
import time

import pytest

from tests.helpers import wait_for_job
from tests.workers.test_webhooks_pipeline import Receiver, verified, wait_for_webhook
from utils.names import handed_key, leases_key, slots_prefix, waiting_key

pytestmark = pytest.mark.pipeline

LIMIT = 5  # the "limited" provider's concurrency in tests/conftest.py


def submit(app, headers, blocks, **extra) -> str:
    response = app.post("/tts", headers=headers, json={"blocks": blocks, **extra})
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def wait_until(condition, timeout_s: float = 60.0, every_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(every_s)
    raise AssertionError("timed out")


def status_of(app, headers, job_id) -> dict:
    response = app.get(f"/status/{job_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def made(status: dict) -> set[int]:
    return {b["index"] for b in status["blocks"] if b["status"] == "completed"}


def job_files(app, job_id: str) -> list:
    folder = app.app.state.storage.root / "jobs" / job_id
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_a_long_piper_job_cancelled_after_its_first_block_stops_there(app, alice, bob, worker):
    n_blocks = 200
    blocks = [{"text": f"This is sentence number {i} of a long job."} for i in range(n_blocks)]
    job_id = submit(app, alice, blocks)
    wait_until(lambda: made(status_of(app, alice, job_id)), timeout_s=90)

    assert app.delete(f"/jobs/{job_id}", headers=bob).status_code == 404  # not bob's
    response = app.delete(f"/jobs/{job_id}", headers=alice)
    assert response.status_code == 200, response.text
    assert response.json() == {"job_id": job_id, "status": "cancelled", "purged": False}
    at_cancel = status_of(app, alice, job_id)
    made_at_cancel = made(at_cancel)
    assert at_cancel["status"] == "cancelled"
    assert {b["status"] for b in at_cancel["blocks"]} <= {"completed", "skipped"}

    time.sleep(3)  # far longer than a block takes: whatever was in flight has ended
    final = status_of(app, alice, job_id)
    assert final["status"] == "cancelled"
    assert made(final) <= made_at_cancel  # nothing made after the cancel is kept
    assert {b["status"] for b in final["blocks"]} <= {"completed", "skipped"}
    started = [b for b in final["blocks"] if b["attempts"]]
    started_after = [b for b in started if b["index"] not in made_at_cancel]
    # only the blocks in flight at the cancel (one per local process, one handed a slot)
    assert len(started_after) <= 4, started_after
    assert len(made(final)) < n_blocks // 4
    assert final["progress"] == f"{len(made(final))}/{n_blocks}"

    again = app.delete(f"/jobs/{job_id}", headers=alice)  # idempotent
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    listed = app.get("/jobs", headers=alice).json()["jobs"]
    assert [j["status"] for j in listed if j["job_id"] == job_id] == ["cancelled"]
    with app.stream("GET", f"/jobs/{job_id}/events", headers=alice) as events:
        body = events.read().decode()  # ends, with the cancelled status
    last = json.loads(body.strip().split("\n\n")[-1].split("data: ", 1)[1])
    assert last["status"] == "cancelled"
    assert app.get(f"/result/{job_id}", headers=alice).status_code == 409

    # a new job runs at once: nothing of the cancelled one is left in line before it
    started_at = time.monotonic()
    other = submit(app, alice, [{"text": "After the cancel."}])
    assert wait_for_job(app, other, alice, timeout_s=30)["status"] == "completed"
    assert time.monotonic() - started_at < 15


def test_a_cloud_job_cancelled_while_waiting_gives_its_slots_to_another_user_at_once(
    isolated_service, simulator
):
    simulator.knobs(latency_ms=600, max_in_flight=LIMIT)
    app, alice = isolated_service(db=9, concurrency=16, pool="threads")
    from tests.helpers import bearer
    from utils.auth.users import UserStore

    redis = app.app.state.redis
    UserStore(redis).set_password("bob", "bob-password")
    bob = bearer(app, "bob")
    blocks = [
        {"text": f"Cloud block {i}.", "provider": "limited", "voice": "alloy"} for i in range(40)
    ]
    job_id = submit(app, alice, blocks)
    wait_until(lambda: redis.scard(waiting_key("limited")) >= 20, timeout_s=30)

    response = app.delete(f"/jobs/{job_id}", headers=alice)
    assert response.status_code == 200, response.text
    # right after: none of its blocks waits in the account's line
    assert redis.scard(waiting_key("limited")) == 0
    assert not redis.exists(f"{slots_prefix('limited')}:job:{job_id}")
    assert not redis.exists(f"{slots_prefix('limited')}:user:alice")
    assert redis.lrange(f"{slots_prefix('limited')}:users", 0, -1) == []
    # those in flight give theirs back as their calls end (within the upstream's latency)
    wait_until(lambda: redis.zcard(leases_key("limited")) == 0, timeout_s=5)
    assert redis.zcard(handed_key("limited")) == 0

    simulator.reset()  # counts bob's requests alone
    simulator.knobs(latency_ms=600, max_in_flight=LIMIT)
    started_at = time.monotonic()
    other = submit(app, bob, blocks[:LIMIT])
    status = wait_for_job(app, other, bob, timeout_s=30)
    assert status["status"] == "completed", status
    # all LIMIT at once: every slot was his, one upstream latency rather than several
    stats = simulator.stats()
    assert stats["peak_in_flight"] == LIMIT and stats["rejected_over_limit"] == 0, stats
    assert time.monotonic() - started_at < 600 * 2 / 1000 + 1.5
    final = status_of(app, alice, job_id)
    assert final["status"] == "cancelled"
    assert len(made(final)) < len(blocks) // 2
    assert {b["status"] for b in final["blocks"]} <= {"completed", "skipped"}


def test_purge_deletes_a_jobs_audio_and_a_finished_job_is_a_409(app, alice, worker):
    job_id = submit(app, alice, [{"text": "Finished first."}, {"text": "And kept."}])
    assert wait_for_job(app, job_id, alice)["status"] == "completed"
    assert job_files(app, job_id)

    refused = app.delete(f"/jobs/{job_id}", headers=alice)
    assert refused.status_code == 409
    assert refused.json()["status"] == "completed" and "completed" in refused.json()["detail"]
    purged = app.delete(f"/jobs/{job_id}?purge=true", headers=alice)
    assert purged.status_code == 200
    assert purged.json() == {"job_id": job_id, "status": "completed", "purged": True}
    assert job_files(app, job_id) == []

    blocks = [{"text": f"Sentence {i} of a job to purge."} for i in range(100)]
    running = submit(app, alice, blocks)
    wait_until(lambda: made(status_of(app, alice, running)), timeout_s=90)
    assert job_files(app, running)
    response = app.delete(f"/jobs/{running}?purge=true", headers=alice)
    assert response.json() == {"job_id": running, "status": "cancelled", "purged": True}
    assert job_files(app, running) == []
    time.sleep(2)  # blocks in flight at the cancel have ended: their audio went too
    assert job_files(app, running) == []


def test_a_cancelled_job_with_a_callback_url_sends_job_cancelled(isolated_service, simulator):
    receiver = Receiver()
    try:
        app, alice = isolated_service(db=10, env={"WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"})
        secret = app.get("/webhooks/secret", headers=alice).json()["secret"]
        simulator.knobs(latency_ms=500)
        blocks = [
            {"text": f"Webhook block {i}.", "provider": "limited", "voice": "alloy"}
            for i in range(30)
        ]
        job_id = submit(app, alice, blocks, callback_url=f"{receiver.url}/hook")
        assert app.delete(f"/jobs/{job_id}", headers=alice).status_code == 200
        webhook = wait_for_webhook(app, alice, job_id, lambda w: w["delivered"])
        assert webhook["event"] == "job.cancelled"
        [(headers, body)] = receiver.at("/hook")
        event = verified(secret, headers, body)
        assert event["type"] == "job.cancelled"
        assert event["data"] == {"job_id": job_id, "status": "cancelled", "duration_ms": None}
        app.delete(f"/jobs/{job_id}", headers=alice)  # again: no second event
        time.sleep(1)
        assert len(receiver.at("/hook")) == 1
    finally:
        receiver.server.shutdown()
