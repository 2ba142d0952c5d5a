"""Blocks whose job is cancelled while they are made, as plain functions against the fake
worker context (tests/workers/fakes.py): discarded, never kept in the job, never sending the
combine, never failing the job, their slot passed on."""

from __future__ import annotations

from tests.workers.fakes import LEASE_S, calls, new_job
from utils.accounts.slots import holder_id
from utils.errors import ProviderRejected
from utils.jobs.cancellation import JobCancellation
from utils.jobs.models import BlockStatus, JobStatus
from utils.names import done_key
from utils.storage.keys import block_audio_key
from workers.block_attempts import attempt_block
from workers.synthesis import Outcome, synthesize_block


def cancel_during(ctx, provider: str, job_id: str, then=None) -> None:
    """The provider's next call cancels the job while it runs (and then does `then`)."""
    fake = ctx.providers.get(provider)
    made = fake.synthesize

    def synthesize(request):
        JobCancellation(ctx.jobs).cancel(job_id)
        if then:
            then()
        return made(request)

    fake.synthesize = synthesize


def test_a_block_in_flight_at_the_cancel_is_discarded_and_its_slot_passed_on(ctx):
    job_id = new_job(ctx, "in flight", "waiting", provider="acct")
    assert ctx.slots.acquire("acct", "blocker", 1, LEASE_S, "carol").granted
    assert synthesize_block(ctx, job_id, 1) == Outcome.WAITING
    assert ctx.slots.release("acct", "blocker", 1, LEASE_S) == [holder_id(job_id, 1)]
    next_job = new_job(ctx, "next", provider="acct")
    assert synthesize_block(ctx, next_job, 0) == Outcome.WAITING  # behind the one in flight

    cancel_during(ctx, "acct", job_id)
    assert synthesize_block(ctx, job_id, 1) == Outcome.SKIPPED
    block = ctx.jobs.get(job_id).blocks[1]
    assert block.status == BlockStatus.SKIPPED and block.storage_key is None
    assert ctx.storage.local_path(block_audio_key(job_id, 1)) is None  # nothing stored
    assert ctx.queue.resent[-1] == (next_job, 0)  # its slot went straight on
    assert ctx.jobs.get(job_id).status == JobStatus.CANCELLED


def test_a_block_stored_as_its_job_is_cancelled_is_taken_out_and_sends_no_combine(ctx):
    job_id = new_job(ctx, "the only block")
    store = ctx.storage.put_bytes

    def put_then_cancel(key, data):
        store(key, data)
        cancellation = JobCancellation(ctx.jobs)
        cancellation.cancel(job_id)
        cancellation.purge(ctx.storage, job_id)  # ?purge=true, before the block finished

    ctx.storage.put_bytes = put_then_cancel
    attempt_block(ctx, job_id, 0, lambda exc: None)  # the last block: it would send the combine
    block = ctx.jobs.get(job_id).blocks[0]
    assert block.status == BlockStatus.SKIPPED and block.storage_key is None
    assert ctx.redis.scard(done_key(job_id)) == 0
    assert ctx.storage.local_path(block_audio_key(job_id, 0)) is None  # purged again
    assert ctx.queue.combined == []


def test_a_block_of_a_cancelled_job_failing_upstream_fails_nothing(ctx):
    job_id = new_job(ctx, "refused", "never made")

    def refuse():
        raise ProviderRejected("voice not allowed")

    cancel_during(ctx, "free", job_id, then=refuse)
    retried = []
    attempt_block(ctx, job_id, 0, retried.append)
    job = ctx.jobs.get(job_id)
    assert job.status == JobStatus.CANCELLED and job.error is None
    assert [b.status for b in job.blocks] == [BlockStatus.SKIPPED] * 2
    assert retried == [] and calls(ctx) == 0


def test_a_block_that_starts_after_the_cancel_is_never_made(ctx):
    job_id = new_job(ctx, "too late")
    JobCancellation(ctx.jobs).cancel(job_id)
    assert synthesize_block(ctx, job_id, 0) == Outcome.SKIPPED
    assert calls(ctx) == 0
