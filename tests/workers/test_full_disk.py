"""A full disk says so: a combine (or a block) that cannot write fails its job saying the store
is full, naming the setting of the folder (never its path), not "internal error"."""

from __future__ import annotations

import errno
import os
import tempfile

import pytest

from tests.workers.fakes import new_job
from utils.errors import StoreFull
from utils.jobs.models import JobStatus
from workers import tasks
from workers.synthesis import synthesize_block


@pytest.fixture
def made(ctx, monkeypatch):
    """A job of two blocks, both made: what is left is the combine, run as its task runs."""
    monkeypatch.setattr(tasks, "worker_context", lambda: ctx)
    job_id = new_job(ctx, "one block.", "and another.")
    for index in range(2):
        synthesize_block(ctx, job_id, index)
    return job_id


def full(*_, **__):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_store_fails_the_combine_saying_so(ctx, made, monkeypatch):
    monkeypatch.setattr("utils.storage.local.shutil.move", full)
    tasks.combine_blocks(made)
    job = ctx.jobs.get(made)
    assert job.status == JobStatus.FAILED
    assert job.error == (
        f"could not combine the blocks: no space left on the store (DATA_DIR): "
        f"could not store jobs/{made}/final.mp3"
    )


def test_a_full_scratch_disk_fails_the_combine_saying_so(ctx, made, monkeypatch):
    monkeypatch.setattr("workers.combine.write_stitched", full)
    tasks.combine_blocks(made)
    job = ctx.jobs.get(made)
    assert job.status == JobStatus.FAILED
    assert job.error == (
        "could not combine the blocks: no space left on the store (TEMP_DIR): "
        "the combined file could not be written"
    )
    assert list(ctx.settings.TEMP_DIR.iterdir()) == []  # its scratch file removed


def test_a_quota_reached_is_a_full_store_too(ctx, monkeypatch):
    def over_quota(*_, **__):
        raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))

    monkeypatch.setattr(tempfile, "mkstemp", over_quota)
    with pytest.raises(StoreFull, match=r"no space left on the store \(DATA_DIR\)"):
        ctx.storage.put_bytes("jobs/x/block_0000.mp3", b"frames")


def test_a_block_that_cannot_be_stored_fails_saying_the_store_is_full(ctx, monkeypatch):
    monkeypatch.setattr(tasks, "worker_context", lambda: ctx)
    job_id = new_job(ctx, "made, but nowhere to put it.")
    monkeypatch.setattr("utils.storage.local.os.fdopen", full)
    tasks.process_block(job_id, 0)
    job = ctx.jobs.get(job_id)
    assert job.status == JobStatus.FAILED
    assert "no space left on the store (DATA_DIR)" in job.blocks[0].error
