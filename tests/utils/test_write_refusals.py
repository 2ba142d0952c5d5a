"""A Redis that refuses writes for now (disk full, too few replicas) is waited for like an
outage, within the caller's patience; other error replies are raised at once."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from utils.redis_client import connect, refuses_writes


@pytest.fixture
def refusing(redis_server):
    """Writes refused (NOREPLICAS: a master told to need a replica it does not have)."""
    admin = redis.Redis(port=redis_server.port)
    admin.config_set("min-replicas-to-write", 1)
    yield admin
    admin.config_set("min-replicas-to-write", 0)


def url(redis_server) -> str:
    return f"redis://127.0.0.1:{redis_server.port}/14"


@pytest.mark.parametrize(
    "reply",
    [
        "MISCONF Errors writing to the AOF file: No space left on device",
        "NOREPLICAS Not enough good replicas to write.",
        "READONLY You can't write against a read only replica.",
        "OOM command not allowed when used memory > 'maxmemory'.",
        "Command # 1 (HSET k f v) of pipeline caused error: MISCONF Errors writing",
        "Error running script (call to f_1): @user_script:2: -NOREPLICAS Not enough",
    ],
)
def test_write_refusals_are_known(reply):
    assert refuses_writes(redis.ResponseError(reply))


def test_other_errors_are_not_write_refusals():
    assert not refuses_writes(redis.ResponseError("WRONGTYPE Operation against a key"))
    assert not refuses_writes(redis.ResponseError("NOSCRIPT No matching script."))
    assert not refuses_writes(redis.ConnectionError("READONLY"))


def test_a_write_refused_past_the_patience_is_raised(redis_server, refusing):
    client = connect(url(redis_server), patience_s=1.0)
    started = time.monotonic()
    with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
        client.set("k", "v")
    assert 0.5 < time.monotonic() - started < 2.5
    assert client.get("k") is None  # reads are served meanwhile


def test_a_write_refused_for_a_moment_is_made_once_writes_are_back(redis_server, refusing):
    client = connect(url(redis_server), patience_s=10.0)
    threading.Timer(1.0, refusing.config_set, ("min-replicas-to-write", 0)).start()
    with client.pipeline(transaction=True) as pipe:
        pipe.incr("counted")
        pipe.expire("counted", 60)
        pipe.execute()
    assert client.get("counted") == "1"  # refused, then made once


def test_other_error_replies_are_raised_at_once(redis_server):
    client = connect(url(redis_server), patience_s=10.0)
    client.set("text", "v")
    started = time.monotonic()
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        client.lpush("text", "x")
    assert time.monotonic() - started < 0.5
