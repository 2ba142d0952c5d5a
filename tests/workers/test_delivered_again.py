"""A block's task delivered again while its first delivery is still being made (the broker
hands unacknowledged tasks out again once its connection is back, though the process making
them lives): the second waits for the first instead of making the block twice
(utils/jobs/liveness.py still_making, workers/synthesis.py). Against the fake worker context."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.workers.fakes import calls, looks_unbroken, new_job
from utils.clock import iso_of
from utils.jobs.liveness import Heartbeat, lost_blocks, process_stamp, this_worker
from utils.jobs.models import BlockStatus
from utils.names import block_key, running_field, worker_heartbeat_key
from workers.synthesis import Outcome, synthesize_block

OTHER = "another-host:4242"  # a process on another machine: its heartbeat alone tells


def started_by(ctx, worker: str, listed: bool) -> str:
    """A job whose block 0 was started by `worker`, which beats listing it (or nothing)."""
    job_id = new_job(ctx, "Said once.")
    ctx.jobs.start_block(ctx.jobs.get(job_id), 0, worker)
    making = [running_field(job_id, 0)] if listed else []
    beat = {"stamp": "another-boot|pid:[1]|1", "storage": None, "making": making}
    ctx.redis.set(worker_heartbeat_key(worker), json.dumps(beat), ex=30)
    return job_id


def attempts(ctx, job_id: str) -> int:
    return ctx.jobs.get_with_block(job_id, 0)[1].attempts


def test_a_delivery_of_a_block_a_live_process_is_making_waits_for_it(ctx):
    job_id = started_by(ctx, OTHER, listed=True)
    assert synthesize_block(ctx, job_id, 0) == Outcome.WAITING
    assert calls(ctx) == 0  # no second call to the provider
    assert attempts(ctx, job_id) == 1
    heartbeat_s = ctx.settings.liveness.heartbeat_s
    assert ctx.queue.later == [(job_id, 0, heartbeat_s, 0)]  # it looks again after a beat

    ctx.jobs.finish_made_block(ctx.jobs.get(job_id), 0, {"duration_ms": 500})  # the maker ends
    assert synthesize_block(ctx, job_id, 0) == Outcome.STORED  # found made; the maker combines
    assert calls(ctx) == 0 and attempts(ctx, job_id) == 1


def test_a_block_its_maker_no_longer_lists_is_made(ctx):
    """Its attempt ended without finishing (left for redelivery after a Redis error)."""
    job_id = started_by(ctx, OTHER, listed=False)  # beating, making nothing
    assert synthesize_block(ctx, job_id, 0) == Outcome.COMBINE
    assert calls(ctx) == 1 and attempts(ctx, job_id) == 2
    assert ctx.queue.later == []


def test_a_silent_maker_s_block_waits_for_beat_s_looks_to_find_it_dead(ctx):
    """Its heartbeat lapsed: in an outage, with the maker alive, or with the maker dead.
    Until beat's looks decide (or the maker beats again), the block is left to it."""
    job_id = new_job(ctx, "Said once.")
    ctx.jobs.start_block(ctx.jobs.get(job_id), 0, OTHER)  # noted, and no heartbeat
    assert synthesize_block(ctx, job_id, 0) == Outcome.WAITING
    assert calls(ctx) == 0

    looks_unbroken(ctx.redis)  # beat's looks have run long enough to trust an expiry
    assert lost_blocks(ctx.redis, ctx.settings.liveness) == [(job_id, 0)]  # found dead
    assert synthesize_block(ctx, job_id, 0) == Outcome.COMBINE  # its note cleared: made
    assert calls(ctx) == 1


@pytest.mark.skipif(not process_stamp(), reason="needs Linux's /proc")
def test_a_maker_of_this_machine_whose_heartbeat_lapsed_is_asked_of_proc(ctx):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    maker = f"{socket.gethostname()}:{child.pid}"
    job_id = new_job(ctx, "Said once.")
    ctx.jobs.start_block(ctx.jobs.get(job_id), 0, maker)  # noted; its heartbeat lapsed
    try:
        assert synthesize_block(ctx, job_id, 0) == Outcome.WAITING  # alive: left to it
    finally:
        child.kill()
        child.wait()
    assert synthesize_block(ctx, job_id, 0) == Outcome.COMBINE  # gone: made here
    assert calls(ctx) == 1


def test_a_block_started_longer_ago_than_any_process_may_make_one_is_made(ctx):
    job_id = new_job(ctx, "Said once.")
    ctx.jobs.start_block(ctx.jobs.get(job_id), 0, OTHER)
    limit_s = ctx.settings.hard_time_limit + ctx.settings.liveness.dead_after_s
    ctx.redis.hset(block_key(job_id, 0), "started_at", iso_of(time.time() - limit_s - 1))
    assert synthesize_block(ctx, job_id, 0) == Outcome.COMBINE
    assert calls(ctx) == 1


def test_in_the_process_making_it_a_second_delivery_waits_and_the_heartbeat_lists_it(ctx):
    job_id = new_job(ctx, "Said once.")
    field = running_field(job_id, 0)
    ctx.jobs.start_block(ctx.jobs.get(job_id), 0, this_worker())
    making, release = threading.Event(), threading.Event()

    def first_delivery():  # another thread of this process, inside its block
        with Heartbeat.making(field):
            making.set()
            release.wait(10)

    thread = threading.Thread(target=first_delivery)
    thread.start()
    making.wait(10)
    try:
        assert json.loads(Heartbeat._value())["making"] == [field]
        assert synthesize_block(ctx, job_id, 0) == Outcome.WAITING
        assert calls(ctx) == 0
    finally:
        release.set()
        thread.join(10)
    assert json.loads(Heartbeat._value())["making"] == []
    assert synthesize_block(ctx, job_id, 0) == Outcome.COMBINE  # its maker ended: made here
    assert calls(ctx) == 1
    assert ctx.jobs.get_with_block(job_id, 0)[1].status == BlockStatus.COMPLETED
