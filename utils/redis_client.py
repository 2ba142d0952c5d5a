"""Redis clients that ride out an outage (a restart, a failover) for as long as their caller
can wait, instead of failing.

How long differs by caller: a worker in the middle of a block waits for Redis to come back
(REDIS_OUTAGE_PATIENCE_S, minutes: losing the connection is not the block's fault), while the
API answers 503 with Retry-After within a couple of seconds rather than hold a client.

A Redis that answers but refuses writes for now (its disk full: MISCONF; too few replicas:
NOREPLICAS; a replica: READONLY; its memory full: OOM) is waited for the same way: each of
those replies means nothing was written, so the command is sent again once it takes writes.

A REDIS_URL of sentinels (utils/redis_sentinel.py) gives clients of the primary the sentinels
name: in a failover a command meets a refused connection or READONLY, waits as above, and is
sent again to the new primary once the sentinels have chosen it.
"""

from __future__ import annotations

import math
import re
import socket

import redis
import redis.asyncio as aioredis
import redis.sentinel
from redis.asyncio.retry import Retry as AsyncRetry
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, ResponseError, TimeoutError
from redis.retry import Retry

from utils.redis_sentinel import is_sentinel_url, parse_sentinel_url

BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 1.0
API_PATIENCE_S = 2.0  # then 503


# Where an error reply's code stands: first, after a pipeline's "caused error: ", or as a
# script's failed call reports it (": -NOREPLICAS ...").
_WRITE_REFUSED = re.compile(
    r"(?:^|caused error: |: -)(?:MISCONF|NOREPLICAS|READONLY|OOM command not allowed)\b"
)


def refuses_writes(error: BaseException) -> bool:
    """Whether `error` is Redis refusing a write for now (nothing of the command was done)."""
    return isinstance(error, ResponseError) and bool(_WRITE_REFUSED.search(str(error)))


class _WritesRetry(Retry):
    """redis-py's Retry, which also sends again a command refused as a write for now."""

    def __init__(self, backoff: ExponentialBackoff, retries: int):
        super().__init__(backoff, retries, (ConnectionError, TimeoutError, socket.timeout))
        self.update_supported_errors([ResponseError])

    def call_with_retry(self, do, fail, is_retryable=None, with_failure_count=False):
        def retryable(error: Exception) -> bool:
            if isinstance(error, ResponseError):
                return refuses_writes(error)
            return is_retryable(error) if is_retryable else True

        return super().call_with_retry(do, fail, retryable, with_failure_count)


def _backoff() -> ExponentialBackoff:
    return ExponentialBackoff(cap=BACKOFF_CAP_S, base=BACKOFF_BASE_S)


def retries_for(patience_s: float) -> int:
    """Retries whose waits add up to at most `patience_s` (at least one retry).

    Counted with redis-py's own backoff, which waits base x 2^n after the n-th failure (0.1,
    0.2, 0.4 ... s, capped): counting from 2^0 instead promised the API's 2 s and waited 3.5."""
    backoff, total, retries = _backoff(), 0.0, 0
    while total + backoff.compute(retries + 1) <= patience_s:
        retries += 1
        total += backoff.compute(retries)
    return max(1, retries)


def _options(retry_class, patience_s: float) -> dict:
    return {
        "decode_responses": True,
        "health_check_interval": 30,
        # A Redis that drops packets (rather than refusing) costs a connect timeout an attempt:
        # a fraction of the caller's patience, so the API still answers 503 in about 2 s.
        "socket_connect_timeout": min(5.0, max(0.25, patience_s / 4)),
        "retry": retry_class(_backoff(), retries_for(patience_s)),
        "retry_on_error": [ConnectionError, TimeoutError],
    }


def connect(
    url: str,
    patience_s: float = API_PATIENCE_S,
    max_connections: int | None = None,
    sentinel=None,
) -> redis.Redis:
    """A client of the Redis at `url`, or of the primary its sentinels name (`sentinel`: the
    REDIS_SENTINEL_* settings, settings/cluster.py)."""
    options = _options(_WritesRetry, patience_s)
    if is_sentinel_url(url):
        return _sentinel_client(redis.sentinel.Sentinel, url, sentinel, options, max_connections)
    return redis.Redis.from_url(url, max_connections=max_connections, **options)


ASYNC_MAX_CONNECTIONS = 100  # an API process's asyncio client: short reads of many requests


def connect_async(url: str, patience_s: float = API_PATIENCE_S, sentinel=None) -> aioredis.Redis:
    """For long-lived waits (streams) that must not hold a worker thread."""
    options = _options(AsyncRetry, patience_s)
    if is_sentinel_url(url):
        return _sentinel_client(AsyncSentinel, url, sentinel, options, ASYNC_MAX_CONNECTIONS)
    # A request past the pool's size waits its turn for a connection (within its patience)
    # rather than failing at once: the plain pool raises at its cap, which 100 simultaneous
    # streams reached before their subscriptions were shared (api/job_changes.py).
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=ASYNC_MAX_CONNECTIONS, timeout=patience_s, **options
    )
    return aioredis.Redis(connection_pool=pool)


def connect_fast(url: str, timeout_s: float, sentinel=None) -> redis.Redis:
    """A client that fails within `timeout_s` rather than riding out an outage (probes)."""
    options = {
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "decode_responses": True,
    }
    if is_sentinel_url(url):
        return _sentinel_client(redis.sentinel.Sentinel, url, sentinel, options, None)
    return redis.Redis.from_url(url, **options)


def sentinel_transport_options(sentinel) -> dict:
    """kombu's transport options for a sentinel:// broker URL (ignored by redis:// ones)."""
    if sentinel is None:
        return {}
    secret = sentinel.password.get_secret_value() if sentinel.password else None
    return {"master_name": sentinel.master, "sentinel_kwargs": {"password": secret}}


def _sentinel_client(sentinel_cls, url: str, settings, options: dict, max_connections):
    target = parse_sentinel_url(url)
    secret = settings.password if settings is not None else None
    sentinel_options = {
        "socket_connect_timeout": options.get("socket_connect_timeout", 1.0),
        "socket_timeout": options.get("socket_connect_timeout", 1.0),
        "decode_responses": True,
        "password": secret.get_secret_value() if secret else None,
    }
    manager = sentinel_cls(target.sentinels, sentinel_kwargs=sentinel_options)
    extra = {"max_connections": max_connections} if max_connections else {}
    return manager.master_for(
        settings.master if settings is not None else "mymaster",
        db=target.db,
        password=target.password,
        username=target.username,
        **options,
        **extra,
    )


def publish_retry_policy(patience_s: float) -> dict:
    """Celery's retry policy for sending a task, waiting about `patience_s` for the broker."""
    return {
        "max_retries": max(1, math.ceil(patience_s / BACKOFF_CAP_S)),
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": BACKOFF_CAP_S,
    }
