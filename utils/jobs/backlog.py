"""Which jobs still have work waiting in the broker: a job that shows no progress for a long
time is waiting its turn if a message names it, and lost if none does.

This reads the Redis transport's own structures (kombu): each queue is a list (one more per
priority step, named queue + SEP + step), and messages delivered but not yet acknowledged are
kept in the `unacked` hash. Each message carries its task's arguments as `argsrepr` in its
headers, where the job id stands first. Reading every message is O(backlog), so the stall
check calls this only when some job has shown no progress for JOB_STALL_TIMEOUT.
"""

from __future__ import annotations

import json
import re

import redis

from utils.names import ALL_QUEUES

PRIORITY_SEP = "\x06\x16"  # kombu.transport.redis.Channel.sep
PRIORITY_STEPS = (0, 3, 6, 9)  # kombu.transport.redis.PRIORITY_STEPS
UNACKED_KEY = "unacked"  # kombu.transport.redis.Channel.unacked_key
CHUNK = 1000
_JOB_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _queue_keys() -> list[str]:
    return [
        q if not step else f"{q}{PRIORITY_SEP}{step}" for q in ALL_QUEUES for step in PRIORITY_STEPS
    ]


def _job_ids_in(message: dict) -> set[str]:
    return set(_JOB_ID.findall(str(message.get("headers", {}).get("argsrepr", ""))))


def jobs_with_queued_work(client: redis.Redis) -> set[str]:
    """Ids of the jobs that some queued or delivered-but-unacknowledged message names."""
    found: set[str] = set()
    for key in _queue_keys():
        for start in range(0, client.llen(key), CHUNK):
            for raw in client.lrange(key, start, start + CHUNK - 1):
                found |= _job_ids_in(json.loads(raw))
    for raw in client.hvals(UNACKED_KEY):
        message = json.loads(raw)[0]  # [message, exchange, routing key]
        found |= _job_ids_in(message)
    return found
