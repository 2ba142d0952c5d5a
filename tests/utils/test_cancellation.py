"""Cancelling a job as job state and as places in the accounts' waiting lines, against a real
Redis: what moves, what is refused, what a block finished after the cancel leaves behind."""

from __future__ import annotations

import uuid

from utils.accounts.slot_lines import SlotLines
from utils.accounts.slots import AccountSlots
from utils.jobs.cancellation import JobCancellation
from utils.jobs.models import BlockSpec, BlockStatus, JobStatus
from utils.jobs.store import JobStore
from utils.names import active_jobs_key, block_key, done_key, slots_prefix

LEASE_S = 30.0


def make_job(store: JobStore, n: int = 4, owner: str = "alice"):
    specs = [BlockSpec(text=f"block {i}", provider="piper", voice="joe") for i in range(n)]
    return store.create(str(uuid.uuid4()), owner, "mp3_24000_64", specs)


def test_a_running_job_is_cancelled_once_and_its_unmade_blocks_skipped(redis_db):
    store = JobStore(redis_db, 3600)
    job = make_job(store)
    store.start_block(job, 0)
    store.finish_block(job, 0, {"storage_key": "k0"})
    store.start_block(job, 1)  # in flight
    cancellation = JobCancellation(store)

    assert cancellation.cancel(job.id) == (JobStatus.CANCELLED, True)
    assert cancellation.cancel(job.id) == (JobStatus.CANCELLED, False)  # already
    read = store.get(job.id)
    assert read.status == JobStatus.CANCELLED
    assert [b.status for b in read.blocks] == [BlockStatus.COMPLETED] + [BlockStatus.SKIPPED] * 3
    assert redis_db.zscore(active_jobs_key(), job.id) is None  # no stall check looks at it
    store.fail_block(job.id, 1, "upstream said no")  # what the block in flight ends in
    assert store.get(job.id, with_blocks=False).status == JobStatus.CANCELLED  # not failed

    # the block in flight finishes anyway, then finds its job cancelled: taken out again
    assert store.finish_block(job, 1, {"storage_key": "k1"}) is False
    cancellation.discard_block(job.id, 1)
    read = store.get(job.id)
    assert read.blocks[1].status == BlockStatus.SKIPPED and read.blocks[1].storage_key is None
    assert redis_db.smembers(done_key(job.id)) == {"0"}


def test_a_finished_or_combining_job_is_not_cancelled(redis_db):
    store = JobStore(redis_db, 3600)
    cancellation = JobCancellation(store)
    completed = make_job(store, 1)
    store.complete(completed, "final.mp3", 1000, [(0, 1000)])
    assert cancellation.cancel(completed.id) == (JobStatus.COMPLETED, False)
    combining = make_job(store, 1)
    store.set_combining(combining.id)
    assert cancellation.cancel(combining.id) == (JobStatus.COMBINING, False)
    assert store.get(combining.id, with_blocks=False).status == JobStatus.COMBINING


def test_a_cancelled_jobs_waiting_blocks_leave_the_line_and_the_others_keep_their_turns(
    redis_db,
):
    """Alice's big job is cancelled while it waits behind a held slot; her small job and Bob's
    take the freed turns alternately, as if the big one had never queued."""
    slots = AccountSlots(redis_db)
    assert slots.acquire("acct", "held:0", 1, LEASE_S, "carol").granted
    for i in range(5):
        assert not slots.acquire("acct", f"big:{i}", 1, LEASE_S, "alice").granted
    for i in range(2):
        assert not slots.acquire("acct", f"small:{i}", 1, LEASE_S, "alice").granted
        assert not slots.acquire("acct", f"bob:{i}", 1, LEASE_S, "bob").granted

    assert SlotLines(redis_db).leave({"acct", "elsewhere"}, "big", "alice") == 5
    assert sorted(slots.waiting("acct")) == ["bob:0", "bob:1", "small:0", "small:1"]
    assert not redis_db.exists(f"{slots_prefix('acct')}:job:big")

    order, holder = [], "held:0"
    for _ in range(4):
        (holder,) = slots.release("acct", holder, 1, LEASE_S)
        order.append(holder)
    assert order == ["small:0", "bob:0", "small:1", "bob:1"]
    assert slots.release("acct", holder, 1, LEASE_S) == []  # nobody left waiting
    assert not redis_db.exists(f"{slots_prefix('acct')}:users")


def test_a_users_last_waiting_job_takes_the_user_out_of_the_line(redis_db):
    slots = AccountSlots(redis_db)
    assert slots.acquire("acct", "held:0", 1, LEASE_S, "carol").granted
    assert not slots.acquire("acct", "only:0", 1, LEASE_S, "alice").granted
    assert not slots.acquire("acct", "bob:0", 1, LEASE_S, "bob").granted
    SlotLines(redis_db).leave({"acct"}, "only", "alice")
    assert redis_db.lrange(f"{slots_prefix('acct')}:users", 0, -1) == ["bob"]
    assert slots.release("acct", "held:0", 1, LEASE_S) == ["bob:0"]


def test_a_block_whose_task_read_its_job_before_the_cancel_does_not_start(redis_db):
    """The task read its job (still processing), then the job was cancelled: its start refuses,
    so no provider call begins for it."""
    store = JobStore(redis_db, 3600)
    job = make_job(store, n=2)
    assert store.start_block(job, 0) is True
    read_by_a_task = store.get(job.id)
    JobCancellation(store).cancel(job.id)
    assert store.start_block(read_by_a_task, 1) is False
    block = store.get(job.id).blocks[1]
    assert block.status == BlockStatus.SKIPPED
    assert redis_db.hget(block_key(job.id, 1), "started_at") is None
