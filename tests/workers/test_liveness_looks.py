"""After Redis was out of reach, an expired heartbeat is not a death until the looks for lost
blocks have run unbroken for WORKER_DEAD_AFTER_S (utils/jobs/liveness.py expiries_count): live
processes beat again first, so their running blocks are not sent again to be made twice. Deaths
that /proc shows are still acted on at once."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from settings.cluster import LivenessSettings
from tests.workers.fakes import looks_unbroken, new_job
from utils.jobs.liveness import lost_blocks, process_stamp
from utils.names import liveness_looks_key, worker_heartbeat_key

# Small, so the test waits tenths of a second: a gap over 0.2 s between looks starts the count.
LIVENESS = LivenessSettings(heartbeat_s=0.2, dead_after_s=0.4, check_s=0.1)


def look_until_found(ctx, timeout_s: float = 5) -> tuple[list[tuple[str, int]], float]:
    """Look every check_s, as beat does, until a block is found lost: (those found, seconds
    from the first look)."""
    first = time.monotonic()
    while time.monotonic() - first < timeout_s:
        if found := lost_blocks(ctx.redis, LIVENESS):
            return found, time.monotonic() - first
        time.sleep(LIVENESS.check_s)
    return [], timeout_s


def started(ctx, worker: str, text: str) -> str:
    job_id = new_job(ctx, text)
    ctx.jobs.start_block(ctx.jobs.get(job_id), 0, worker)
    ctx.redis.set(worker_heartbeat_key(worker), "another-boot|pid:[1]|1", px=60_000)
    return job_id


def outage(ctx, *workers: str) -> None:
    """No look for longer than the gap, and the heartbeats expired meanwhile."""
    time.sleep(0.3)
    ctx.redis.delete(*(worker_heartbeat_key(w) for w in workers))


def test_a_heartbeat_expired_in_an_outage_waits_until_looks_have_run_unbroken(ctx):
    looks_unbroken(ctx.redis)
    dead = started(ctx, "gone-host:1", "its process died in the outage")
    live = started(ctx, "live-host:2", "its process lives")
    assert lost_blocks(ctx.redis, LIVENESS) == []  # both beating

    outage(ctx, "gone-host:1", "live-host:2")
    assert lost_blocks(ctx.redis, LIVENESS) == []  # the first look after: every beat may be old
    ctx.redis.set(worker_heartbeat_key("live-host:2"), "another-boot|pid:[1]|1", px=60_000)
    found, after_s = look_until_found(ctx)
    assert found == [(dead, 0)]  # the silent one is dead; the one that beat again is not
    assert live not in {job for job, _ in found}
    assert after_s >= LIVENESS.dead_after_s - LIVENESS.check_s  # not before the looks' count


def test_the_first_look_on_a_redis_with_none_noted_starts_the_count(ctx):
    dead = started(ctx, "gone-host:3", "before any look")
    ctx.redis.delete(worker_heartbeat_key("gone-host:3"))
    assert not ctx.redis.exists(liveness_looks_key())
    assert lost_blocks(ctx.redis, LIVENESS) == []
    found, after_s = look_until_found(ctx)
    assert found == [(dead, 0)]
    assert after_s >= LIVENESS.dead_after_s - LIVENESS.check_s


def test_unbroken_looks_find_an_expired_heartbeat_at_once(ctx):
    looks_unbroken(ctx.redis)
    dead = started(ctx, "gone-host:4", "its process stopped beating")
    ctx.redis.delete(worker_heartbeat_key("gone-host:4"))
    assert lost_blocks(ctx.redis, LIVENESS) == [(dead, 0)]


@pytest.mark.skipif(not process_stamp(), reason="needs Linux's /proc")
def test_a_process_gone_from_this_machine_is_dead_at_once_even_after_an_outage(ctx):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    worker = f"{socket.gethostname()}:{child.pid}"
    job_id = new_job(ctx, "in a process killed here")
    ctx.jobs.start_block(ctx.jobs.get(job_id), 0, worker)
    ctx.redis.set(worker_heartbeat_key(worker), process_stamp(child.pid), px=60_000)
    time.sleep(0.3)  # a gap: expiries do not count at the next look
    child.kill()
    child.wait()
    assert lost_blocks(ctx.redis, LIVENESS) == [(job_id, 0)]
