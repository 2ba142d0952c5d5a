"""AsyncTTSClient against the running service: the same job, errors and pages, awaited."""

from __future__ import annotations

import asyncio

import pytest
from tts_client import AsyncTTSClient, AuthError, NotFound, ValidationError

from tests.client.test_sync_client import seconds_of


def test_the_async_client_from_submit_to_audio_and_its_errors(service_url, tmp_path):
    seen = []

    async def run():
        async with AsyncTTSClient(service_url, username="alice", password="alice-password") as t:
            job = await t.submit(text="Awaited speech.", output_format="wav_24000")
            final = await t.wait(job.job_id, progress=seen.append)
            await t.download(job.job_id, tmp_path / "speech.wav")
            with pytest.raises(ValidationError) as refused:
                await t.submit([{"text": "x", "speed": 9}])
            with pytest.raises(NotFound):
                await t.retry("00000000-0000-4000-8000-000000000000")
            listed = [j.job_id async for j in t.iter_jobs(page_size=1)]
        async with AsyncTTSClient(service_url, username="bob", password="nope") as bob:
            with pytest.raises(AuthError):
                await bob.jobs()
        return job, final, refused.value, listed

    job, final, refused, listed = asyncio.run(run())
    assert final.status == "completed" and final.progress == "1/1" and seen[-1] == final
    assert 0.5 < seconds_of((tmp_path / "speech.wav").read_bytes()) < 5
    assert [p.field for p in refused.problems] == ["blocks[0].speed"]
    assert listed == [job.job_id]
