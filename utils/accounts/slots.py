"""Account slots: one in-flight limit per provider account, shared by every worker on every
machine.

A TTS account allows N requests in flight and answers 429 above that. The slots are a Redis
semaphore with leases:

    tts:slots:{account}:leases    zset: holder -> lease expiry (ms); one member per slot held
    tts:slots:{account}:waiting   list: holders waiting for a slot, oldest first
    tts:slots:{account}:handed    zset: holders handed a slot whose task has not started yet

A holder is a block (`job_id:index`). A block that finds every slot taken joins the waiting
list and its task ends, so no worker process sits idle (or spins) while it waits. Releasing a
slot hands it straight to the oldest waiter (its lease is written on its behalf) and the
releaser re-sends that block's task, which then finds its slot already held. A crashed holder's
slot frees itself when its lease runs out. Both steps are Lua scripts: no slot is ever given
twice, and no waiter can slip in between a full check and its own queueing.

Handing over and re-sending cannot be one atomic step (one is Redis, the other the broker), so
a releaser that dies between them would strand the waiter: a slot, but no task. Every handoff
is therefore noted with its time until the waiter's task starts, and a periodic sweep
(`stranded`) gives back the holders whose task has not started after a grace period, so their
tasks can be sent again.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from utils.names import handed_key, leases_key, waiting_key

# KEYS: leases, waiting, handed. ARGV: holder, limit, lease_ms.
# Returns {granted (0/1), holders to dispatch...}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local limit, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  -- a slot already held: handed over while waiting (its task has now started), or a redelivery
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return {1}
end
local dispatch = {}
-- Slots freed by expired leases go to those already waiting, in order.
while redis.call('ZCARD', KEYS[1]) < limit and redis.call('LLEN', KEYS[2]) > 0 do
  local waiter = redis.call('LPOP', KEYS[2])
  if waiter ~= ARGV[1] then
    redis.call('ZADD', KEYS[1], now + lease, waiter)
    redis.call('ZADD', KEYS[3], now, waiter)
    table.insert(dispatch, waiter)
  end
end
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  return {1, unpack(dispatch)}
end
if not redis.call('LPOS', KEYS[2], ARGV[1]) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
end
return {0, unpack(dispatch)}
"""

# KEYS: leases, waiting, handed. ARGV: holder, limit, lease_ms. Returns holders to dispatch.
_RELEASE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local limit, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local dispatch = {}
while redis.call('ZCARD', KEYS[1]) < limit and redis.call('LLEN', KEYS[2]) > 0 do
  local waiter = redis.call('LPOP', KEYS[2])
  redis.call('ZADD', KEYS[1], now + lease, waiter)
  redis.call('ZADD', KEYS[3], now, waiter)
  table.insert(dispatch, waiter)
end
return dispatch
"""

# KEYS: handed. ARGV: grace_ms. Takes out and returns the holders handed a slot longer ago
# than the grace whose task has not started: each is returned once, to be sent again once.
_STRANDED = """
local t = redis.call('TIME')
local cutoff = t[1] * 1000 + math.floor(t[2] / 1000) - tonumber(ARGV[1])
local stranded = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)
if #stranded > 0 then
  redis.call('ZREM', KEYS[1], unpack(stranded))
end
return stranded
"""


@dataclass(frozen=True)
class Acquired:
    granted: bool
    dispatch: list[str]  # waiters that were handed a slot: re-send their tasks


class AccountSlots:
    def __init__(self, client: redis.Redis):
        self.redis = client
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._stranded = client.register_script(_STRANDED)

    def acquire(self, account: str, holder: str, limit: int, lease_s: float) -> Acquired:
        """Take a slot for `holder`, or queue it as a waiter (granted=False)."""
        keys = [leases_key(account), waiting_key(account), handed_key(account)]
        result = self._acquire(keys=keys, args=[holder, limit, int(lease_s * 1000)])
        return Acquired(bool(int(result[0])), [str(h) for h in result[1:]])

    def release(self, account: str, holder: str, limit: int, lease_s: float) -> list[str]:
        """Give the slot back; the waiters handed a slot, whose tasks the caller re-sends."""
        keys = [leases_key(account), waiting_key(account), handed_key(account)]
        result = self._release(keys=keys, args=[holder, limit, int(lease_s * 1000)])
        return [str(h) for h in result]

    def stranded(self, account: str, grace_s: float) -> list[str]:
        """Holders handed a slot more than `grace_s` ago whose task never started; the caller
        sends their tasks again. Each is returned once."""
        result = self._stranded(keys=[handed_key(account)], args=[int(grace_s * 1000)])
        return [str(h) for h in result]

    def in_use(self, account: str) -> int:
        return self.redis.zcard(leases_key(account))

    def waiting(self, account: str) -> list[str]:
        """Holders waiting for a slot, or handed one whose task has not started yet."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.lrange(waiting_key(account), 0, -1)
            pipe.zrange(handed_key(account), 0, -1)
            waiting, handed = pipe.execute()
        return [*waiting, *handed]


def holder_id(job_id: str, index: int) -> str:
    return f"{job_id}:{index}"


def parse_holder(holder: str) -> tuple[str, int]:
    job_id, index = holder.rsplit(":", 1)
    return job_id, int(index)
