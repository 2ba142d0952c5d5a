"""A worker process that died on this machine is known dead at once, not when its heartbeat
expires: its blocks are sent again keeping their slots, and it leaves the pools."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.workers.fakes import LEASE_S, new_job
from utils.accounts.slots import holder_id
from utils.jobs.liveness import dead_workers, lost_blocks, process_stamp, this_worker
from utils.names import (
    handed_key,
    leases_key,
    local_workers_key,
    running_blocks_key,
    worker_heartbeat_key,
)
from workers.housekeeping import reclaim_at_start, recover_lost_work

pytestmark = pytest.mark.skipif(not process_stamp(), reason="needs Linux's /proc")


@pytest.fixture
def process():
    """Another process on this machine, beating as a worker would (its stamp in Redis)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child
    child.kill()
    child.wait()


def beat_as(ctx, pid: int, stamp: str) -> str:
    worker = f"{socket.gethostname()}:{pid}"
    ctx.redis.set(worker_heartbeat_key(worker), stamp, ex=30)
    ctx.redis.zadd(local_workers_key(), {worker: 9e12})
    return worker


def test_a_live_process_is_alive_and_a_killed_one_dead_before_its_heartbeat_expires(ctx, process):
    worker = beat_as(ctx, process.pid, process_stamp(process.pid))
    assert dead_workers(ctx.redis, [worker]) == set()
    process.kill()
    process.wait()
    assert ctx.redis.exists(worker_heartbeat_key(worker))  # still beating, as far as Redis knows
    assert dead_workers(ctx.redis, [worker]) == {worker}


def test_a_pid_taken_by_another_process_is_dead(ctx, process):
    stamp = process_stamp(process.pid)
    boot_and_namespace, started = stamp.rsplit("|", 1)
    worker = beat_as(ctx, process.pid, f"{boot_and_namespace}|{int(started) - 1}")
    assert dead_workers(ctx.redis, [worker]) == {worker}


def test_a_heartbeat_of_another_kernel_is_left_to_its_expiry(ctx):
    worker = beat_as(ctx, 999999, "another-boot|pid:[1]|1")
    assert dead_workers(ctx.redis, [worker]) == set()
    ctx.redis.delete(worker_heartbeat_key(worker))
    assert dead_workers(ctx.redis, [worker]) == {worker}


def test_a_dead_process_s_block_is_sent_again_at_once_keeping_its_slot(ctx, process):
    job_id = new_job(ctx, "in a process that is killed", "waiting", provider="acct")
    job = ctx.jobs.get(job_id)
    worker = beat_as(ctx, process.pid, process_stamp(process.pid))
    assert ctx.slots.acquire("acct", holder_id(job_id, 0), 1, LEASE_S).granted
    assert not ctx.slots.acquire("acct", holder_id(job_id, 1), 1, LEASE_S).granted
    ctx.jobs.start_block(job, 0, worker)
    process.kill()
    process.wait()

    assert recover_lost_work(ctx, grace_s=30) == [(job_id, 0)]
    assert ctx.queue.resent == [(job_id, 0)]  # the waiter stays in line behind it
    assert ctx.redis.zrange(leases_key("acct"), 0, -1) == [holder_id(job_id, 0)]
    assert ctx.redis.zrange(handed_key("acct"), 0, -1) == [holder_id(job_id, 0)]
    assert worker not in ctx.redis.zrange(local_workers_key(), 0, -1)  # out of the pool
    assert lost_blocks(ctx.redis, ctx.settings.liveness) == []  # once


def test_a_process_starting_under_a_dead_one_s_name_sends_its_blocks_again(ctx):
    """A restarted container's processes get the same pids, so the same names."""
    job_id = new_job(ctx, "made before the restart")
    ctx.jobs.start_block(ctx.jobs.get(job_id), 0, this_worker())
    ctx.redis.set(worker_heartbeat_key(this_worker()), process_stamp(), ex=30)  # it beats
    assert lost_blocks(ctx.redis, ctx.settings.liveness) == []  # alive to anyone else
    assert reclaim_at_start(ctx, local=False) == [(job_id, 0)]
    assert ctx.queue.resent == [(job_id, 0)]
    assert ctx.redis.hlen(running_blocks_key()) == 0
