"""A job's webhook delivery in Redis: opened once per outcome, its attempts, when the next is due.

    tts:job:{id}:webhook:{event}  marker: SET NX by whoever opens the event's delivery, so a
                                  redelivered task (or a second path that sees the outcome)
                                  opens nothing: each event is sent once per job
    tts:job:{id}:webhook          hash: event, url, webhook_id, body (fixed when opened, so
                                  every attempt sends the same bytes), attempts (JSON list),
                                  n_attempts, first_at, delivered, next_attempt_at, stopped
    tts:job:{id}:webhook:lock     marker: held while one process makes an attempt
    tts:webhooks:due              zset: "{job id}:{event}" -> Unix time its next attempt is due

A job retried after it failed may complete later: that delivery (job.completed) replaces the
job.failed one in the hash, which then stops. Everything expires with the job (`expires_at`).

Who sends an attempt first moves its due time on by a lease (`claim_due`), so beat sends each
due attempt once; an attempt whose worker died is sent again when the lease runs out. The task
itself takes the lock and checks the attempt count it was sent for (`begin`): a stale or
duplicate task does nothing.
"""

from __future__ import annotations

import json
import time

import redis

from utils.clock import iso_of
from utils.names import webhook_key, webhook_lock_key, webhook_marker_key, webhooks_due_key

# KEYS: marker, hash, due zset. ARGV: expires_at, member, due score, then hash field/value pairs.
_OPEN = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EXAT', ARGV[1]) then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('EXPIREAT', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
return 1
"""
# KEYS: hash, lock. ARGV: event, attempts expected, lock ms. 1: the caller makes the attempt.
_BEGIN = """
if redis.call('HGET', KEYS[1], 'event') ~= ARGV[1] then return -1 end
if redis.call('HGET', KEYS[1], 'n_attempts') ~= ARGV[2] then return 0 end
if redis.call('HGET', KEYS[1], 'next_attempt_at') == '' then return 0 end
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then return 0 end
return 1
"""
# KEYS: due zset. ARGV: now, lease until, limit. Members due now, each moved on to the lease.
_CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
return due
"""


def member(job_id: str, event: str) -> str:
    return f"{job_id}:{event}"


class Deliveries:
    def __init__(self, client: redis.Redis):
        self.redis = client
        self._open = client.register_script(_OPEN)
        self._begin = client.register_script(_BEGIN)
        self._claim_due = client.register_script(_CLAIM_DUE)

    def open(
        self,
        job_id: str,
        event: str,
        url: str,
        body: str,
        webhook_id: str,
        expires_at: int,
        lease_s: float,
    ) -> bool:
        """Open the event's delivery, its first attempt claimed by the caller (who sends it
        now); False if it was opened before."""
        fields = {
            "event": event,
            "url": url,
            "webhook_id": webhook_id,
            "body": body,
            "attempts": "[]",
            "n_attempts": 0,
            "first_at": "",
            "delivered": 0,
            "next_attempt_at": iso_of(time.time()),
            "stopped": "",
        }
        args = [expires_at, member(job_id, event), time.time() + lease_s]
        for name, value in fields.items():
            args += [name, value]
        keys = [webhook_marker_key(job_id, event), webhook_key(job_id), webhooks_due_key()]
        return bool(self._open(keys=keys, args=args))

    def begin(self, job_id: str, event: str, n_attempts: int, lock_s: float) -> dict | None:
        """The delivery, locked for one attempt, when attempt `n_attempts + 1` is still to make;
        None otherwise (made already, delivered, stopped, replaced, or being made now)."""
        keys = [webhook_key(job_id), webhook_lock_key(job_id)]
        found = self._begin(keys=keys, args=[event, n_attempts, int(lock_s * 1000)])
        if found == -1:  # expired with its job, or replaced by a later event
            self.redis.zrem(webhooks_due_key(), member(job_id, event))
        return self.redis.hgetall(webhook_key(job_id)) if found == 1 else None

    def record(
        self,
        job_id: str,
        event: str,
        attempt: dict,
        delivered: bool,
        next_at: float | None,
        stopped: str = "",
    ) -> None:
        """Add an attempt, and schedule the next (`next_at`) or end the delivery (None)."""
        key = webhook_key(job_id)
        attempts = json.loads(self.redis.hget(key, "attempts") or "[]") + [attempt]
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "attempts": json.dumps(attempts),
                    "n_attempts": len(attempts),
                    "delivered": int(delivered),
                    "next_attempt_at": iso_of(next_at) if next_at is not None else "",
                    "stopped": stopped,
                },
            )
            pipe.hsetnx(key, "first_at", attempt["at"])
            if next_at is None:
                pipe.zrem(webhooks_due_key(), member(job_id, event))
            else:
                pipe.zadd(webhooks_due_key(), {member(job_id, event): next_at})
            pipe.delete(webhook_lock_key(job_id))
            pipe.execute()

    def claim_due(self, lease_s: float, limit: int = 500) -> list[tuple[str, str, int]]:
        """(job id, event, attempts made) of deliveries due now, each claimed for `lease_s`."""
        now = time.time()
        due = self._claim_due(keys=[webhooks_due_key()], args=[now, now + lease_s, limit])
        with self.redis.pipeline(transaction=False) as pipe:
            for item in due:
                pipe.hget(webhook_key(item.rpartition(":")[0]), "n_attempts")
            counts = pipe.execute()
        return [
            (item.rpartition(":")[0], item.rpartition(":")[2], int(count or 0))
            for item, count in zip(due, counts, strict=True)
        ]

    def status(self, job_id: str) -> dict | None:
        """The delivery as GET /status shows it (no body, no id); None before any outcome."""
        raw = self.redis.hgetall(webhook_key(job_id))
        if not raw:
            return None
        return {
            "event": raw["event"],
            "url": raw["url"],
            "attempts": json.loads(raw.get("attempts") or "[]"),
            "delivered": raw.get("delivered") == "1",
            "next_attempt_at": raw.get("next_attempt_at") or None,
            "stopped": raw.get("stopped") or None,
        }
