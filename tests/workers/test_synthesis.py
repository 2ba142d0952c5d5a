"""A block's synthesis and the account-slot protocol, run as plain functions (Celery's testing
guide: test the work, not the task) against a small fake context (tests/workers/fakes.py)."""

from __future__ import annotations

import json

from tests.workers.fakes import LEASE_S, RATE, calls, new_job
from utils.accounts.slots import holder_id
from utils.audio.cache import content_digest
from utils.jobs.models import BlockStatus, JobStatus
from utils.names import cache_key
from utils.storage.keys import block_audio_key
from workers.account_slots import release_slot
from workers.synthesis import Outcome, synthesize_block


def test_blocks_are_stored_and_the_last_one_asks_for_the_combine(ctx):
    job_id = new_job(ctx, "one", "two")
    assert synthesize_block(ctx, job_id, 0) == Outcome.STORED
    assert synthesize_block(ctx, job_id, 1) == Outcome.COMBINE
    job = ctx.jobs.get(job_id)
    assert [b.status for b in job.blocks] == [BlockStatus.COMPLETED] * 2
    block = job.blocks[0]
    assert block.storage_key == block_audio_key(job_id, 0)
    assert ctx.storage.local_path(block.storage_key).stat().st_size > 0
    assert block.n_samples == RATE // 2 and block.duration_ms == 500


def test_a_block_of_a_finished_job_is_skipped_without_a_provider_call(ctx):
    job_id = new_job(ctx, "never said")
    ctx.jobs.fail(job_id, "block 3: something else failed")
    assert synthesize_block(ctx, job_id, 0) == Outcome.SKIPPED
    assert calls(ctx) == 0


def test_a_finished_block_run_again_is_not_made_again_nor_counted_twice(ctx):
    job_id = new_job(ctx, "once", "twice")
    assert synthesize_block(ctx, job_id, 0) == Outcome.STORED
    assert synthesize_block(ctx, job_id, 0) == Outcome.STORED  # a redelivery
    assert calls(ctx) == 1
    assert synthesize_block(ctx, job_id, 1) == Outcome.COMBINE
    assert synthesize_block(ctx, job_id, 1) == Outcome.STORED  # the combine is asked for once


def test_a_cache_hit_is_stored_without_a_provider_call(ctx):
    first, second = new_job(ctx, "same words"), new_job(ctx, "same words")
    synthesize_block(ctx, first, 0)
    assert synthesize_block(ctx, second, 0) == Outcome.COMBINE
    assert calls(ctx) == 1
    block = ctx.jobs.get(second).blocks[0]
    assert block.cached and ctx.storage.local_path(block.storage_key) is not None


def test_a_block_keeps_its_timings_and_a_cache_hit_has_the_same(ctx):
    first, second = new_job(ctx, "Same words. Twice over."), new_job(ctx, "Same words. Twice over.")
    synthesize_block(ctx, first, 0)
    synthesize_block(ctx, second, 0)
    assert calls(ctx) == 1
    made, cached = (ctx.jobs.timings(ctx.jobs.get(job_id))[0] for job_id in (first, second))
    assert made == cached
    stored = json.loads(made)
    assert stored["rate"] == RATE and stored["source"] == "estimated"
    assert [row[:2] for row in stored["sentences"]] == [[0, 11], [12, 23]]
    assert stored["sentences"][-1][3] == RATE // 2  # the block's last sample


def test_a_block_finding_every_slot_taken_waits_and_runs_when_handed_one(ctx):
    job_id = new_job(ctx, "patient", provider="acct")
    assert ctx.slots.acquire("acct", "someone-else", 1, LEASE_S).granted
    assert synthesize_block(ctx, job_id, 0) == Outcome.WAITING
    assert calls(ctx, "acct") == 0 and ctx.jobs.get(job_id).blocks[0].status == "queued"

    # The holder gives the slot back: it is handed to the waiting block, whose task is re-sent.
    handed = ctx.slots.release("acct", "someone-else", 1, LEASE_S)
    assert handed == [holder_id(job_id, 0)]
    assert synthesize_block(ctx, job_id, 0) == Outcome.COMBINE
    assert calls(ctx, "acct") == 1
    assert ctx.slots.in_use("acct") == 0  # given back once made


def test_releasing_a_slot_re_sends_the_block_it_is_handed_to(ctx):
    waiting = new_job(ctx, "next in line", provider="acct")
    holder = new_job(ctx, "holding", provider="acct")
    assert ctx.slots.acquire("acct", holder_id(holder, 0), 1, LEASE_S).granted
    assert synthesize_block(ctx, waiting, 0) == Outcome.WAITING
    release_slot(ctx, "acct", holder, 0)
    assert ctx.queue.resent == [(waiting, 0)]


def test_a_block_handed_a_slot_after_its_job_failed_passes_it_on(ctx):
    doomed, next_job = (
        new_job(ctx, "doomed", provider="acct"),
        new_job(ctx, "next", provider="acct"),
    )
    assert ctx.slots.acquire("acct", "holder", 1, LEASE_S).granted
    for job_id in (doomed, next_job):
        assert synthesize_block(ctx, job_id, 0) == Outcome.WAITING
    assert ctx.slots.release("acct", "holder", 1, LEASE_S) == [holder_id(doomed, 0)]
    ctx.jobs.fail(doomed, "block 1: failed elsewhere")

    assert synthesize_block(ctx, doomed, 0) == Outcome.SKIPPED
    assert ctx.queue.resent == [(next_job, 0)]  # the slot went straight on
    assert calls(ctx, "acct") == 0


def test_cache_restore_with_its_audio_gone_is_a_miss_and_forgets_the_entry(ctx):
    job_id = new_job(ctx, "remembered")
    synthesize_block(ctx, job_id, 0)
    provider = ctx.providers.get("free")
    digest = content_digest(provider, ctx.jobs.get(job_id).blocks[0].spec, "mp3_24000_64")
    entry = ctx.redis.hgetall(cache_key(digest))
    ctx.storage.local_path(entry["key"]).unlink()

    assert ctx.cache.restore(digest, "jobs/other/block_0000.mp3") is None
    assert not ctx.redis.exists(cache_key(digest))


def test_a_job_is_completed_only_by_its_last_block_whatever_the_order(ctx):
    job_id = new_job(ctx, "a", "b", "c")
    outcomes = [synthesize_block(ctx, job_id, i) for i in (2, 0, 1)]
    assert outcomes == [Outcome.STORED, Outcome.STORED, Outcome.COMBINE]
    assert ctx.jobs.get(job_id).status == JobStatus.PROCESSING


def test_the_cache_tells_apart_blocks_sent_with_different_neighbouring_text(ctx):
    """A provider that hears the neighbours' text speaks differently beside other words."""
    ctx.providers.get("free").uses_context = True
    first = new_job(ctx, "Before.", "The same words.")
    other = new_job(ctx, "Something else.", "The same words.")
    again = new_job(ctx, "Before.", "The same words.")
    for job_id in (first, other, again):
        synthesize_block(ctx, job_id, 1)
    assert [r.previous_text for r in ctx.providers.get("free").requests] == [
        "Before.",
        "Something else.",
    ]
    assert ctx.jobs.get(again).blocks[1].cached  # same neighbours: the same audio


def test_the_cache_tells_apart_accounts_with_other_settings(ctx):
    free = ctx.providers.get("free")
    first = content_digest(free, ctx.jobs.get(new_job(ctx, "x")).blocks[0].spec, "mp3_24000_64")
    free.config = free.config.model_copy(update={"base_url": "http://other-server/v1"})
    second = content_digest(free, ctx.jobs.get(new_job(ctx, "x")).blocks[0].spec, "mp3_24000_64")
    assert first != second


def test_a_job_of_blocks_alone_completes_without_a_combined_file(ctx, tmp_path):
    from utils.jobs.models import BlockSpec
    from workers.combine import combine_job

    job_id = "0b3a5c1e-0000-4000-8000-00000000b10c"
    specs = [BlockSpec("one", "free", "v1", client_id="intro"), BlockSpec("two", "free", "v1")]
    ctx.jobs.create(job_id, "alice", "mp3_24000_64", specs, combine=False)
    assert synthesize_block(ctx, job_id, 0) == Outcome.STORED
    assert synthesize_block(ctx, job_id, 1) == Outcome.COMBINE  # the finisher still reports
    combine_job(ctx, job_id)
    job = ctx.jobs.get(job_id)
    assert job.status == JobStatus.COMPLETED and job.storage_key is None and not job.combine
    assert job.duration_ms == 1000 and [b.spec.client_id for b in job.blocks] == ["intro", None]
    assert not list((tmp_path / "audio" / "jobs" / job_id).glob("final*"))
