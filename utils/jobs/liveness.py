"""Which worker is making which block, and whether that worker is still alive.

Each worker process that makes blocks keeps a heartbeat key alive (refreshed every
HEARTBEAT_S, expiring after HEARTBEAT_TTL_S), and a block that starts is noted in one hash
with the process making it:

    tts:worker:{host}:{pid}   heartbeat, expires HEARTBEAT_TTL_S after the process stops
    tts:blocks:running        "{job id}:{index}" -> "{host}:{pid}"

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

import redis

from utils.names import running_blocks_key, worker_heartbeat_key

log = logging.getLogger(__name__)

HEARTBEAT_S = 10
HEARTBEAT_TTL_S = 30


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeat:
    """A daemon thread beating for this process; started once per process (forks included)."""

    _lock = threading.Lock()
    _pid: int | None = None

    @classmethod
    def ensure(cls, client: redis.Redis) -> None:
        with cls._lock:
            if cls._pid == os.getpid():
                return
            cls._pid = os.getpid()
            key = worker_heartbeat_key(this_worker())
            client.set(key, "1", ex=HEARTBEAT_TTL_S)  # alive from the first block on
            threading.Thread(target=cls._beat, args=(client, key), daemon=True).start()

    @staticmethod
    def _beat(client: redis.Redis, key: str) -> None:
        stop = threading.Event()
        while not stop.wait(HEARTBEAT_S):
            try:
                client.set(key, "1", ex=HEARTBEAT_TTL_S)
            except redis.RedisError:  # an outage: beat again when Redis is back
                log.warning("heartbeat not written (Redis unavailable)")


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
