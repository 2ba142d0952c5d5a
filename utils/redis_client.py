"""Redis clients that ride out an outage (a restart, a failover) for as long as their caller
can wait, instead of failing.

How long differs by caller: a worker in the middle of a block waits for Redis to come back
(REDIS_OUTAGE_PATIENCE_S, minutes: losing the connection is not the block's fault), while the
API answers 503 with Retry-After within a couple of seconds rather than hold a client.
"""

from __future__ import annotations

import math

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError
from redis.retry import Retry

BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 1.0
API_PATIENCE_S = 2.0  # then 503


def retries_for(patience_s: float) -> int:
    """Attempts whose backoff (doubling from BACKOFF_BASE_S, capped at BACKOFF_CAP_S) adds up
    to about `patience_s`."""
    total, attempts = 0.0, 0
    while total < patience_s:
        total += min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempts)
        attempts += 1
    return max(1, attempts)


def _options(retry_class, patience_s: float) -> dict:
    return {
        "decode_responses": True,
        "health_check_interval": 30,
        "socket_connect_timeout": 5,
        "retry": retry_class(
            ExponentialBackoff(cap=BACKOFF_CAP_S, base=BACKOFF_BASE_S), retries_for(patience_s)
        ),
        "retry_on_error": [ConnectionError, TimeoutError],
    }


def connect(
    url: str, patience_s: float = API_PATIENCE_S, max_connections: int | None = None
) -> redis.Redis:
    return redis.Redis.from_url(url, max_connections=max_connections, **_options(Retry, patience_s))


def connect_async(url: str, patience_s: float = API_PATIENCE_S) -> aioredis.Redis:
    """For long-lived waits (streams) that must not hold a worker thread."""
    return aioredis.from_url(url, **_options(AsyncRetry, patience_s))


def publish_retry_policy(patience_s: float) -> dict:
    """Celery's retry policy for sending a task, waiting about `patience_s` for the broker."""
    return {
        "max_retries": max(1, math.ceil(patience_s / BACKOFF_CAP_S)),
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": BACKOFF_CAP_S,
    }
