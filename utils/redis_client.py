"""Redis clients that ride out a short outage (a restart, a failover) instead of failing."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError
from redis.retry import Retry

# About 15 s of retrying in all: long enough for a Redis restart, short enough to surface
# a real outage as an error.
RETRIES = 20


def _options(retry_class, retries: int = RETRIES) -> dict:
    return {
        "decode_responses": True,
        "health_check_interval": 30,
        "socket_connect_timeout": 5,
        "retry": retry_class(ExponentialBackoff(cap=1.0, base=0.05), retries),
        "retry_on_error": [ConnectionError, TimeoutError],
    }


def connect(url: str, max_connections: int | None = None, retries: int = RETRIES) -> redis.Redis:
    """`retries` lower for a person waiting at a prompt, who would rather hear at once."""
    return redis.Redis.from_url(url, max_connections=max_connections, **_options(Retry, retries))


def connect_async(url: str) -> aioredis.Redis:
    """For long-lived waits (streams) that must not hold a worker thread."""
    return aioredis.from_url(url, **_options(AsyncRetry))
