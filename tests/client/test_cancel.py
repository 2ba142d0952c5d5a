"""Cancelling through the client library (TTSClient, AsyncTTSClient) and `tts cancel`, against
the running service and the session's worker."""

from __future__ import annotations

import asyncio

import pytest
from tts_client import AsyncTTSClient, Conflict, NotFound, TTSClient

LONG = [f"Sentence number {i} of a job that will not be finished." for i in range(150)]


def test_the_sync_client_cancels_waits_and_purges(service_url):
    with TTSClient(service_url, username="alice", password="alice-password") as tts:
        job = tts.submit(LONG)
        answer = tts.cancel(job.job_id)
        assert (answer.job_id, answer.status, answer.purged) == (job.job_id, "cancelled", False)
        final = tts.wait(job.job_id, timeout=30)  # ends: cancelled is an end
        assert final.status == "cancelled" and final.finished
        assert tts.cancel(job.job_id, purge=True).purged  # again, purging too
        done = tts.submit(["Short and done."])
        tts.wait(done.job_id, timeout=60)
        with pytest.raises(Conflict) as refused:
            tts.cancel(done.job_id)
        assert refused.value.status == "completed"
    bob = TTSClient(service_url, username="bob", password="bob-password")
    with bob, pytest.raises(NotFound):
        bob.cancel(job.job_id)


def test_the_async_client_cancels(service_url):
    async def run():
        async with AsyncTTSClient(service_url, username="alice", password="alice-password") as t:
            job = await t.submit(LONG)
            answer = await t.cancel(job.job_id, purge=True)
            final = await t.wait(job.job_id, timeout=30)
            return answer, final

    answer, final = asyncio.run(run())
    assert (answer.status, answer.purged) == ("cancelled", True)
    assert final.status == "cancelled"


def test_tts_cancel_takes_the_start_of_a_job_id(service_url, tts):
    with TTSClient(service_url, username="alice", password="alice-password") as client:
        job = client.submit(LONG)
    env = {"TTS_URL": service_url}
    login = ("login", "--url", service_url, "--username", "alice", "--password", "alice-password")
    assert tts(*login)[0] == 0
    code, out, err = tts("cancel", job.job_id[:8], **env)
    assert code == 0, err
    assert out.strip() == f"job {job.job_id}: cancelled"
    code, out, err = tts("cancel", job.job_id[:8], "--purge", **env)
    assert code == 0 and out.strip() == f"job {job.job_id}: cancelled, its audio deleted"
    code, _, err = tts("cancel", "00000000", **env)
    assert code == 4, err  # no such job
