"""What the block task does with each way a block can go wrong, run as a plain call of the task
against the fake worker context (tests/workers/fakes.py)."""

from __future__ import annotations

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from kombu.exceptions import OperationalError

from tests.workers.fakes import new_job
from utils.errors import ProviderRetryable
from utils.jobs.models import BlockStatus, JobStatus
from utils.names import combine_marker_key
from workers import tasks
from workers.synthesis import synthesize_block


@pytest.fixture
def task_ctx(ctx, monkeypatch):
    monkeypatch.setattr(tasks, "worker_context", lambda: ctx)
    return ctx


def test_a_broker_error_after_the_block_was_stored_leaves_the_block_done(task_ctx, monkeypatch):
    ctx = task_ctx
    job_id = new_job(ctx, "made and stored")

    def broker_down(job_id):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    monkeypatch.setattr(ctx.queue, "combine", broker_down)
    with pytest.raises(OperationalError):  # left unacknowledged, for the broker to redeliver
        tasks.process_block(job_id, 0)
    job = ctx.jobs.get(job_id)
    assert job.blocks[0].status == BlockStatus.COMPLETED and job.status != JobStatus.FAILED
    assert not ctx.redis.exists(combine_marker_key(job_id))  # the next finisher sends it

    monkeypatch.undo()
    monkeypatch.setattr(tasks, "worker_context", lambda: ctx)
    tasks.process_block(job_id, 0)  # the redelivery
    assert ctx.queue.combined == [job_id]
    assert len(ctx.providers.get("free").requests) == 1  # made once


def test_a_block_past_the_time_limit_fails_at_once_naming_it(task_ctx, monkeypatch):
    ctx = task_ctx
    job_id = new_job(ctx, "too slow")

    def slow(request):
        # as an SDK does: its own error, raised while handling the soft limit
        try:
            raise SoftTimeLimitExceeded()
        except SoftTimeLimitExceeded:
            raise ProviderRetryable("free", "connection failed") from None

    monkeypatch.setattr(ctx.providers.get("free"), "synthesize", slow)
    tasks.process_block(job_id, 0)
    job = ctx.jobs.get(job_id)
    assert job.status == JobStatus.FAILED
    assert job.blocks[0].error == "took longer than BLOCK_TIME_LIMIT (600 s)"


def test_a_failure_reported_late_never_marks_a_finished_block_failed(ctx):
    job_id = new_job(ctx, "done", "other")
    synthesize_block(ctx, job_id, 0)
    ctx.jobs.fail_block(job_id, 0, "too late")
    job = ctx.jobs.get(job_id)
    assert job.blocks[0].status == BlockStatus.COMPLETED and job.status != JobStatus.FAILED


def test_the_soft_limit_is_the_block_time_limit_and_the_hard_one_comes_later():
    settings = tasks.app.conf
    limit = tasks.worker_context().settings.BLOCK_TIME_LIMIT
    assert settings.task_soft_time_limit == limit < settings.task_time_limit
    visibility = settings.broker_transport_options["visibility_timeout"]
    assert visibility > settings.task_time_limit  # a running task is never handed on
