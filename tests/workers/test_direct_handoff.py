"""A block handed a slot freed in a network-pool process starts in that process, not through
the broker; and, with no task of its own, its retries and its infrastructure failures are sent
as tasks. Run against the fake worker context (tests/workers/fakes.py)."""

from __future__ import annotations

import threading
from functools import partial

import pytest
import redis

from tests.workers.fakes import FakeProvider, calls, new_job
from utils.accounts.slots import holder_id
from utils.errors import ProviderRetryable
from utils.jobs.models import BlockStatus
from utils.logs import bind_fields, current_fields, reset_fields
from utils.names import LOCAL_BLOCKS_QUEUE, NETWORK_BLOCKS_QUEUE, PROCESS_BLOCK
from workers import cpu_lane, direct_handoff, lifecycle
from workers.account_slots import _hand_on, release_slot
from workers.block_attempts import make_handed_block
from workers.synthesis import Outcome, synthesize_block


@pytest.fixture
def started():
    """This process serves handed blocks; what it was asked to start, in order."""
    seen: list[tuple[str, int, str]] = []
    done = threading.Event()

    def run(job_id, index, queue):
        seen.append((job_id, index, queue))
        done.set()

    direct_handoff.serve(run, threads=4)
    yield seen, done
    direct_handoff.stop()


def _waiting_behind_a_holder(ctx, n_waiting: int = 1) -> tuple[str, list[str]]:
    holder = new_job(ctx, "holding", provider="acct")
    assert ctx.slots.acquire("acct", holder_id(holder, 0), 1, 60).granted
    waiting = [new_job(ctx, f"next {i}", provider="acct") for i in range(n_waiting)]
    for job_id in waiting:
        assert synthesize_block(ctx, job_id, 0) == Outcome.WAITING
    return holder, waiting


def test_a_freed_slot_starts_the_next_block_here_and_sends_nothing(ctx, started):
    seen, done = started
    holder, [waiting] = _waiting_behind_a_holder(ctx)
    release_slot(ctx, "acct", holder, 0)
    assert done.wait(5)
    assert seen == [(waiting, 0, NETWORK_BLOCKS_QUEUE)]
    assert ctx.queue.resent == []  # no message through the broker


def test_without_a_free_thread_or_once_stopping_the_block_goes_through_the_broker(ctx):
    release = threading.Event()
    direct_handoff.serve(lambda *block: release.wait(5), threads=1)
    try:
        holder, waiting = _waiting_behind_a_holder(ctx, n_waiting=1)
        release_slot(ctx, "acct", holder, 0)  # the one thread takes it and stays busy
        assert ctx.queue.resent == []
        _hand_on(ctx, ["other-job:3"], NETWORK_BLOCKS_QUEUE)  # no thread free
        assert ctx.queue.resent == [("other-job", 3)]
    finally:
        release.set()
        direct_handoff.stop()
    _hand_on(ctx, ["after-stop:0"], NETWORK_BLOCKS_QUEUE)
    assert ctx.queue.resent[-1] == ("after-stop", 0)


def test_a_local_block_handed_a_slot_always_goes_to_the_local_pool(ctx, started, monkeypatch):
    seen, _ = started
    sent = []
    monkeypatch.setattr(ctx.queue, "resend_block", lambda *args: sent.append(args))
    _hand_on(ctx, ["job:1"], LOCAL_BLOCKS_QUEUE)
    assert sent == [("job", 1, LOCAL_BLOCKS_QUEUE)] and seen == []


def test_a_handed_block_is_made_here_once_and_the_last_one_sends_the_combine(ctx):
    direct_handoff.serve(partial(make_handed_block, ctx), threads=2)
    try:
        holder, [waiting] = _waiting_behind_a_holder(ctx)
        release_slot(ctx, "acct", holder, 0)
    finally:
        direct_handoff.stop()  # waits for the block started here
    job = ctx.jobs.get(waiting)
    assert job.blocks[0].status == BlockStatus.COMPLETED
    assert ctx.queue.combined == [waiting]
    assert calls(ctx, "acct") == 1
    assert ctx.slots.in_use("acct") == 0  # its slot given back in turn
    assert ctx.queue.resent == []


def _refused(ctx, monkeypatch, exc: Exception) -> None:
    def refuse(request):
        raise exc

    monkeypatch.setattr(ctx.providers.get("acct"), "synthesize", refuse)


def test_a_retryable_failure_of_a_block_made_here_is_sent_as_a_delayed_retry(ctx, monkeypatch):
    _refused(ctx, monkeypatch, ProviderRetryable("acct", "busy", retry_after_s=7.5))
    job_id = new_job(ctx, "busy upstream", provider="acct")
    make_handed_block(ctx, job_id, 0, NETWORK_BLOCKS_QUEUE)
    [(sent_job, index, countdown, retries)] = ctx.queue.later
    assert (sent_job, index, retries) == (job_id, 0, 1)  # the second attempt
    assert countdown >= 7.5  # never sooner than the provider's Retry-After
    block = ctx.jobs.get(job_id).blocks[0]
    assert block.status != BlockStatus.FAILED
    assert ctx.slots.in_use("acct") == 0


def test_with_no_retries_allowed_a_retryable_failure_fails_the_block(ctx, monkeypatch):
    ctx.settings.PROVIDER_MAX_RETRIES = 0
    _refused(ctx, monkeypatch, ProviderRetryable("acct", "busy"))
    job_id = new_job(ctx, "busy upstream", provider="acct")
    make_handed_block(ctx, job_id, 0, NETWORK_BLOCKS_QUEUE)
    block = ctx.jobs.get(job_id).blocks[0]
    assert block.status == BlockStatus.FAILED
    assert block.error.endswith("(gave up after 1 attempts)")
    assert ctx.queue.later == []


def test_redis_going_away_mid_block_sends_the_block_as_a_task(ctx, monkeypatch):
    _refused(ctx, monkeypatch, redis.ConnectionError("Connection refused"))
    job_id = new_job(ctx, "interrupted", provider="acct")
    make_handed_block(ctx, job_id, 0, NETWORK_BLOCKS_QUEUE)
    assert ctx.queue.resent == [(job_id, 0)]  # as the broker would redeliver a task
    assert ctx.jobs.get(job_id).blocks[0].status != BlockStatus.FAILED


class _Sender:
    def __init__(self, pool_cls, concurrency=4):
        self.pool_cls, self.concurrency = pool_cls, concurrency


def test_a_threads_pool_worker_serves_handoffs_and_builds_its_cloud_providers_first(
    ctx, monkeypatch
):
    monkeypatch.setattr(lifecycle, "worker_context", lambda: ctx)
    built = []
    for name, provider in ctx.providers.providers.items():
        monkeypatch.setattr(provider, "warm_up", lambda name=name: built.append(name))

    def broken_warm_up():
        raise RuntimeError("cannot reach the catalogue")  # logged; the worker starts anyway

    monkeypatch.setattr(ctx.providers.get("free"), "warm_up", broken_warm_up)
    lifecycle.start_network_process(sender=_Sender("prefork"))
    assert not cpu_lane.lane_open() and not direct_handoff.start_here("j", 0, "q")
    assert built == []
    try:
        lifecycle.start_network_process(sender=_Sender("threads"))
        assert cpu_lane.lane_open()
        assert built == ["acct"]  # every cloud provider but the broken one, before any block
    finally:
        lifecycle.stop_network_process()
    assert not cpu_lane.lane_open()


def test_a_block_started_here_logs_as_its_task_would(ctx, monkeypatch):
    """Its own job and block; the request id only where the releasing block was of its job."""
    seen = {}

    def record(request):
        seen[request.text] = current_fields()
        return FakeProvider.synthesize(ctx.providers.get("acct"), request)

    monkeypatch.setattr(ctx.providers.get("acct"), "synthesize", record)
    mine, other = new_job(ctx, "same job", provider="acct"), new_job(ctx, "other", provider="acct")
    releaser = {"request_id": "req-1", "user": "alice", "job_id": mine, "block": 7}
    token = bind_fields(**releaser)
    try:
        make_handed_block(ctx, mine, 0, NETWORK_BLOCKS_QUEUE)
        make_handed_block(ctx, other, 0, NETWORK_BLOCKS_QUEUE)
        assert current_fields() == releaser  # the releaser's own fields untouched
    finally:
        reset_fields(token)
    block_fields = {"task": PROCESS_BLOCK, "block": 0, "provider": "acct"}  # provider: noted
    assert seen["same job"] == {
        "request_id": "req-1",
        "user": "alice",
        "job_id": mine,
        **block_fields,
    }
    assert seen["other"] == {"job_id": other, **block_fields}
