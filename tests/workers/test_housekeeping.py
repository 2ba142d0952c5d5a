"""Beat's checks against the fake worker context (tests/workers/fakes.py): a job waiting its
turn is not stalled, a job whose work was lost is; a dead worker's blocks are sent again."""

from __future__ import annotations

import pytest

from config import Settings
from tests.workers.fakes import LEASE_S, looks_unbroken, new_job
from utils.jobs.liveness import lost_blocks
from utils.jobs.models import BlockStatus, JobStatus
from utils.jobs.recovery import reset_for_retry
from utils.names import PROCESS_BLOCK, job_key, running_blocks_key, worker_heartbeat_key
from workers.celery_app import create_celery
from workers.housekeeping import MAX_RECOVERIES, check_stalled_jobs, recover_lost_work
from workers.synthesis import synthesize_block

LONG_AGO = "2020-01-01T00:00:00.000Z"


@pytest.fixture
def quiet(ctx, monkeypatch):
    """Make jobs look as if they had shown no progress for longer than JOB_STALL_TIMEOUT."""
    monkeypatch.setattr(ctx.settings, "JOB_STALL_TIMEOUT", 60)

    def make_quiet(job_id: str) -> str:
        ctx.redis.hset(job_key(job_id), "updated_at", LONG_AGO)
        return job_id

    return make_quiet


def test_a_job_whose_work_was_lost_gets_it_sent_again(ctx, quiet):
    job_id = quiet(new_job(ctx, "one", "two"))
    assert check_stalled_jobs(ctx) == []
    assert ctx.queue.resent == [(job_id, 0), (job_id, 1)]
    assert ctx.jobs.get(job_id).recoveries == 1


def test_a_job_whose_work_keeps_being_lost_is_stalled_and_its_blocks_never_ran(ctx, quiet):
    job_id = quiet(new_job(ctx, "one", "two"))
    for _ in range(MAX_RECOVERIES):
        ctx.jobs.count_recovery(job_id)
    assert check_stalled_jobs(ctx) == [job_id]
    assert ctx.queue.resent == []
    job = ctx.jobs.get(job_id)
    assert job.status == JobStatus.FAILED and job.error.startswith("stalled: no progress")
    assert [b.status for b in job.blocks] == [BlockStatus.SKIPPED] * 2
    assert reset_for_retry(ctx.jobs, job) == [0, 1]  # a retry runs them


def test_a_job_waiting_its_turn_in_the_broker_is_not_stalled(ctx, quiet, redis_db):
    job_id = quiet(new_job(ctx, "behind a long backlog"))
    # a real message, as the API sends it, on the service's queue in this database
    url = f"redis://127.0.0.1:{redis_db.connection_pool.connection_kwargs['port']}/1"
    celery = create_celery(Settings(REDIS_URL=url), publish_patience_s=1)
    celery.send_task(PROCESS_BLOCK, args=[job_id, 0])
    assert check_stalled_jobs(ctx) == []
    assert ctx.jobs.get(job_id).status == JobStatus.QUEUED


def test_a_job_waiting_for_an_account_slot_is_not_stalled(ctx, quiet):
    job_id = quiet(new_job(ctx, "in line", provider="acct"))
    assert ctx.slots.acquire("acct", "someone-else", 1, LEASE_S).granted
    assert synthesize_block(ctx, job_id, 0).value == "waiting"
    assert check_stalled_jobs(ctx) == []


def test_a_job_whose_blocks_are_all_made_gets_its_combine_sent_again(ctx, quiet):
    job_id = new_job(ctx, "made")
    synthesize_block(ctx, job_id, 0)  # the combine it asked for was lost
    quiet(job_id)
    assert check_stalled_jobs(ctx) == []
    assert ctx.queue.combined == [job_id]
    assert ctx.jobs.get(job_id).status != JobStatus.FAILED


def test_a_block_whose_worker_stopped_beating_is_sent_again_once(ctx):
    job_id = new_job(ctx, "in a process that died", "in a live one")
    job = ctx.jobs.get(job_id)
    ctx.redis.set(worker_heartbeat_key("live-host:1"), "1", ex=30)
    ctx.jobs.start_block(job, 0, "gone-host:4242")  # no heartbeat: that process is dead
    ctx.jobs.start_block(job, 1, "live-host:1")
    looks_unbroken(ctx.redis)

    assert recover_lost_work(ctx, grace_s=30) == [(job_id, 0)]
    assert ctx.queue.resent == [(job_id, 0)]
    assert lost_blocks(ctx.redis, ctx.settings.liveness) == []  # once
    assert ctx.redis.hkeys(running_blocks_key()) == [f"{job_id}:1"]


def test_a_finished_block_is_no_longer_noted_as_running(ctx):
    job_id = new_job(ctx, "quick")
    synthesize_block(ctx, job_id, 0)
    assert ctx.redis.hlen(running_blocks_key()) == 0
