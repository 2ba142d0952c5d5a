from workers.tasks import retry_delay


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
