"""429 and 503 waited out as Retry-After says, within bounds; progress by server-sent events
where the server has them. The rate limit is the real service's; the Retry-After values and
the event feed come from a tiny fake (tests/client/fake_service.py)."""

from __future__ import annotations

import asyncio

import pytest
from tts_client import AsyncTTSClient, RateLimited, RetryPolicy, ServerError, TTSClient

from tests.client.fake_service import JOB_ID, fake_service
from tests.helpers import served


def test_429_and_503_are_retried_after_the_servers_retry_after():
    app, calls = fake_service([(429, "1"), (503, "0"), (503, None)])
    waits = []
    policy = RetryPolicy(attempts=4, base_s=0.05)
    with served(app) as url, TTSClient(url, api_key="tts_sk_fake", retry=policy) as tts:
        tts.on_retry = lambda response, wait: waits.append((response.status_code, wait))
        job = tts.submit(text="Hello.")
    assert job.job_id == JOB_ID
    # Retry-After: 1, then 0; without one, the backoff of the third try (0.05 * 2**2)
    assert waits == [(429, 1.0), (503, 0.0), (503, pytest.approx(0.2))]
    assert calls["submit"] == 4


def test_retries_are_bounded_by_count_and_by_the_longest_wait():
    app, calls = fake_service([(503, "0")] * 5 + [(429, "3600")])
    policy = RetryPolicy(attempts=3)
    with served(app) as url, TTSClient(url, api_key="tts_sk_fake", retry=policy) as tts:
        with pytest.raises(ServerError) as gave_up:
            tts.submit(text="Hello.")
        assert calls["submit"] == 3 and gave_up.value.status_code == 503
        calls.clear()
        tts.retry_policy = RetryPolicy(attempts=10)
        with pytest.raises(RateLimited) as limited:
            tts.submit(text="Hello.")  # two more 503s, then an hour: not waited for
    assert calls["submit"] == 3
    assert limited.value.retry_after == 3600


def test_the_real_rate_limit_is_reported_with_its_retry_after(service_redis, users):
    from api.main import create_app
    from config import Settings

    with served(create_app(Settings(RATE_LIMIT_SUBMIT="1/minute"))) as url:
        policy = RetryPolicy(max_wait_s=5)  # the service's wait (up to a minute) is longer
        with TTSClient(url, username="alice", password="alice-password", retry=policy) as tts:
            waits = []
            tts.on_retry = lambda response, wait: waits.append(wait)
            tts.submit(text="The one job a minute.")
            with pytest.raises(RateLimited) as limited:
                tts.submit(text="One too many.")
    assert waits == []
    assert 5 < limited.value.retry_after <= 60
    assert "rate limit exceeded" in limited.value.message


def test_wait_follows_the_event_feed_where_the_server_has_one():
    app, calls = fake_service([])
    seen = []
    with served(app) as url, TTSClient(url, api_key="tts_sk_fake") as tts:
        final = tts.wait(JOB_ID, progress=seen.append)
    assert [s.progress for s in seen] == ["0/2", "1/2", "2/2"]
    assert final.status == "completed"
    assert calls["events"] == 1 and calls["status"] == 0  # no polling


def test_the_async_client_follows_the_event_feed_and_retries_too():
    app, calls = fake_service([(429, "0")])
    seen = []

    async def progress(status):  # a coroutine function is awaited
        seen.append(status.status)

    async def run(url):
        async with AsyncTTSClient(url, api_key="tts_sk_fake") as tts:
            job = await tts.submit(text="Hello.")
            return await tts.wait(job.job_id, progress=progress)

    with served(app) as url:
        final = asyncio.run(run(url))
    assert seen == ["queued", "processing", "completed"] and final.progress == "2/2"
    assert calls["submit"] == 2 and calls["status"] == 0
