"""A Redis client waits for an outage to pass about as long as its caller can, and no longer:
the API's calls give up (503) within API_PATIENCE_S, counting the waits redis-py really makes."""

from __future__ import annotations

import pytest
import redis
import redis.retry

from utils.embedded_redis import free_port
from utils.redis_client import API_PATIENCE_S, connect


@pytest.mark.parametrize("patience_s", [API_PATIENCE_S, 30.0])
def test_the_waits_of_a_call_to_a_missing_redis_add_up_to_the_patience(monkeypatch, patience_s):
    waits: list[float] = []
    monkeypatch.setattr(redis.retry, "sleep", waits.append)  # recorded, not slept
    client = connect(f"redis://127.0.0.1:{free_port()}/0", patience_s=patience_s)
    with pytest.raises(redis.ConnectionError):
        client.get("anything")
    assert waits, "no retry at all"
    # the whole wait fits the patience, and most of it is used (the next wait would not fit)
    assert sum(waits) <= patience_s
    assert sum(waits) + max(waits) > patience_s
