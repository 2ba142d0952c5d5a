import email.utils
from datetime import UTC, datetime, timedelta

from workers.block_attempts import retry_delay
from workers.providers.upstream import retry_after_seconds


def test_backoff_grows_is_capped_and_never_undercuts_retry_after():
    delays = [
        retry_delay(attempt, None, base_s=1.0, cap_s=8.0)
        for attempt in range(10)
        for _ in range(50)
    ]
    assert min(delays) >= 0 and max(delays) <= 8.0
    first_try = [retry_delay(0, None, base_s=1.0, cap_s=8.0) for _ in range(200)]
    assert max(first_try) <= 1.0
    assert len(set(first_try)) > 100  # jittered, so retries spread out
    assert all(retry_delay(0, 2.5) >= 2.5 for _ in range(50))


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    soon = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds({"retry-after": "2.5"}) == 2.5
    assert 28 <= retry_after_seconds({"Retry-After": soon}) <= 30
    past = email.utils.format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True)
    assert retry_after_seconds({"retry-after": past}) == 0.0
    assert retry_after_seconds({}) is None
