"""Which worker is making which block, and whether that worker is still alive.

Each worker process that makes blocks keeps a heartbeat key alive (refreshed every
HEARTBEAT_S, expiring after HEARTBEAT_TTL_S), and a block that starts is noted in one hash
with the process making it:

    tts:worker:{host}:{pid}   heartbeat, expires HEARTBEAT_TTL_S after the process stops
    tts:blocks:running        "{job id}:{index}" -> "{host}:{pid}"
    tts:workers:local         local (CPU) pool processes -> when their heartbeat expires
    tts:workers:network       every other worker process -> when its heartbeat expires


A block whose process stopped beating (killed, its machine gone) was lost mid-way; beat finds
it here within a minute and sends it again, rather than waiting for the broker's visibility
timeout (longer than the longest block). A block's own task refreshes nothing: the heartbeat
is the process's, so a long block never looks lost while its process lives.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

import redis

from utils.names import (
    local_workers_key,
    network_workers_key,
    running_blocks_key,
    worker_heartbeat_key,
)

log = logging.getLogger(__name__)

HEARTBEAT_S = 10
HEARTBEAT_TTL_S = 30


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeat:
    """A daemon thread beating for this process; started once per process (forks included).

    A local pool process also counts itself in the local pool: its size is how many local
    blocks may run at once (workers/account_slots.py), so it must beat before it takes any."""

    _lock = threading.Lock()
    _pid: int | None = None

    @classmethod
    def ensure(cls, client: redis.Redis, local: bool = False) -> None:
        with cls._lock:
            if cls._pid == os.getpid():
                return
            cls._pid = os.getpid()
            worker = this_worker()
            _beat_once(client, worker, local)  # alive from the first block on
            threading.Thread(target=cls._beat, args=(client, worker, local), daemon=True).start()

    @staticmethod
    def _beat(client: redis.Redis, worker: str, local: bool) -> None:
        stop = threading.Event()
        while not stop.wait(HEARTBEAT_S):
            try:
                _beat_once(client, worker, local)
            except redis.RedisError:  # an outage: beat again when Redis is back
                log.warning("heartbeat not written (Redis unavailable)")


def _beat_once(client: redis.Redis, worker: str, local: bool) -> None:
    with client.pipeline(transaction=False) as pipe:
        pipe.set(worker_heartbeat_key(worker), "1", ex=HEARTBEAT_TTL_S)
        pool = local_workers_key() if local else network_workers_key()
        pipe.zadd(pool, {worker: time.time() + HEARTBEAT_TTL_S})
        pipe.execute()


def local_pool_size(client: redis.Redis) -> int:
    """Local pool processes alive now, on every machine (at least the caller, who is one)."""
    now = time.time()
    with client.pipeline(transaction=False) as pipe:
        pipe.zremrangebyscore(local_workers_key(), "-inf", now)
        pipe.zcard(local_workers_key())
        return max(1, pipe.execute()[1])


def running_blocks(client: redis.Redis) -> list[str]:
    """Every block noted as being made now, as `{job id}:{index}` (a slot's holder id)."""
    return list(client.hkeys(running_blocks_key()))


def lost_blocks(client: redis.Redis) -> list[tuple[str, int]]:
    """Blocks noted as running in a process that no longer beats; each removed from the note,
    so it is returned once (its task, sent again, notes it anew)."""
    running = client.hgetall(running_blocks_key())
    workers = sorted(set(running.values()))
    if not workers:
        return []
    with client.pipeline(transaction=False) as pipe:
        for worker in workers:
            pipe.exists(worker_heartbeat_key(worker))
        alive = {w for w, beating in zip(workers, pipe.execute(), strict=True) if beating}
    lost = []
    for field, worker in running.items():
        # HDEL answers 1 to one caller only, should two beats race
        if worker not in alive and client.hdel(running_blocks_key(), field):
            job_id, index = field.rsplit(":", 1)
            lost.append((job_id, int(index)))
    return lost


def live_workers(client: redis.Redis, local: bool, host: str | None = None) -> list[str]:
    """Worker processes of a pool (local or network) whose heartbeat has not expired, on `host`
    only if given. Expired entries are dropped on the way."""
    key = local_workers_key() if local else network_workers_key()
    now = time.time()
    with client.pipeline(transaction=False) as pipe:
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zrangebyscore(key, now, "+inf")
        workers = pipe.execute()[1]
    return [w for w in workers if host is None or w.rsplit(":", 1)[0] == host]
