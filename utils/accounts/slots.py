"""Account slots: one in-flight limit per provider account, shared by every worker on every
machine, and shared fairly.

A TTS account allows N requests in flight and answers 429 above that. The slots are a Redis
semaphore with leases, and a waiting line that takes turns:

    tts:slots:{account}:leases        zset: holder -> lease expiry (ms); one member per slot held
    tts:slots:{account}:handed        zset: holders handed a slot whose task has not started yet
    tts:slots:{account}:waiting       set: every holder waiting for a slot
    tts:slots:{account}:users         list: users with blocks waiting, in turn order
    tts:slots:{account}:user:{name}   list: that user's jobs with blocks waiting, in turn order
    tts:slots:{account}:job:{id}      list: that job's waiting blocks, in block order

A holder is a block (`job_id:index`). A block that finds every slot taken joins the line and
its task ends, so no worker process sits idle (or spins) while it waits. Releasing a slot hands
it straight to the next in line (its lease is written on its behalf) and the releaser re-sends
that block's task, which then finds its slot already held. The next in line is chosen in turns:
the next user, then that user's next job, then that job's next block, so a user with one
small job is not served after another user's backlog, and a user's own jobs take turns too. A
crashed holder's slot frees itself when its lease runs out; sooner, once its process is found
dead, its block is sent again keeping the slot (`keep_for_resend`, workers/housekeeping.py).
Every step is one Lua script: no slot is ever given twice, and no waiter can slip in between
a full check and its own queueing.
(The line's per-user and per-job keys are named inside the scripts, which suits one Redis
server, not Redis Cluster.)

Handing over and re-sending cannot be one atomic step (one is Redis, the other the broker), so
a releaser that dies between them would strand the waiter: a slot, but no task. Every handoff
is therefore noted with its time until the waiter's task starts, and a periodic sweep
(`stranded`) gives back the holders whose task has not started after a grace period, so their
tasks can be sent again.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from utils.names import handed_key, leases_key, slots_prefix, waiting_key
from utils.redis_scripts import execute, queue_script

# Shared by the scripts below. KEYS: leases, handed, waiting. ARGV[1]: the account's key prefix.
_LINE = """
local prefix = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return t[1] * 1000 + math.floor(t[2] / 1000)
end
local function job_of(holder)
  return string.match(holder, '^(.*):%d+$') or holder
end
local function join(holder, user)
  if redis.call('SADD', KEYS[3], holder) == 0 then return end
  local job_line = prefix .. ':job:' .. job_of(holder)
  redis.call('RPUSH', job_line, holder)
  if redis.call('LLEN', job_line) == 1 then
    local user_line = prefix .. ':user:' .. user
    redis.call('RPUSH', user_line, job_of(holder))
    if redis.call('LLEN', user_line) == 1 then
      redis.call('RPUSH', prefix .. ':users', user)
    end
  end
end
-- The next waiter: the next user's next job's first block; the user and the job go to the back
-- of their lines while they still have blocks waiting.
local function next_waiter()
  while true do
    local user = redis.call('LPOP', prefix .. ':users')
    if not user then return nil end
    local user_line = prefix .. ':user:' .. user
    local job = redis.call('LPOP', user_line)
    local holder = false
    if job then
      local job_line = prefix .. ':job:' .. job
      holder = redis.call('LPOP', job_line)
      if redis.call('LLEN', job_line) > 0 then redis.call('RPUSH', user_line, job) end
    end
    if redis.call('LLEN', user_line) > 0 then redis.call('RPUSH', prefix .. ':users', user) end
    if holder then
      redis.call('SREM', KEYS[3], holder)
      return holder
    end
  end
end
"""

# ARGV: prefix, holder, user, limit, lease_ms, for_later (1: the holder's task is yet to be sent,
# so a grant is noted as a handoff). Returns {granted (0/1), holders to dispatch...}.
_ACQUIRE = (
    _LINE
    + """
local holder, user = ARGV[2], ARGV[3]
local limit, lease = tonumber(ARGV[4]), tonumber(ARGV[5])
local function granted(dispatch)
  if ARGV[6] == '1' then redis.call('ZADD', KEYS[2], now_ms(), holder) end
  return {1, unpack(dispatch)}
end
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], holder) then
  -- a slot already held: handed over while waiting (its task has now started), or a redelivery
  redis.call('ZADD', KEYS[1], now + lease, holder)
  redis.call('ZREM', KEYS[2], holder)
  return {1}
end
local dispatch = {}
-- Slots freed by expired leases go to those already waiting, in turn.
while redis.call('ZCARD', KEYS[1]) < limit do
  local waiter = next_waiter()
  if not waiter then break end
  redis.call('ZADD', KEYS[1], now + lease, waiter)
  if waiter == holder then return granted(dispatch) end
  redis.call('ZADD', KEYS[2], now, waiter)
  table.insert(dispatch, waiter)
end
if redis.call('ZCARD', KEYS[1]) < limit and redis.call('SISMEMBER', KEYS[3], holder) == 0 then
  redis.call('ZADD', KEYS[1], now + lease, holder)
  return granted(dispatch)
end
join(holder, user)
return {0, unpack(dispatch)}
"""
)

# ARGV: prefix, holder, limit, lease_ms. Returns the holders to dispatch.
_RELEASE = (
    _LINE
    + """
local holder, limit, lease = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
redis.call('ZREM', KEYS[1], holder)
redis.call('ZREM', KEYS[2], holder)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local dispatch = {}
while redis.call('ZCARD', KEYS[1]) < limit do
  local waiter = next_waiter()
  if not waiter then break end
  redis.call('ZADD', KEYS[1], now + lease, waiter)
  redis.call('ZADD', KEYS[2], now, waiter)
  table.insert(dispatch, waiter)
end
return dispatch
"""
)

# KEYS: leases, handed. ARGV: holder, lease_ms. A holder whose task is to be sent again (its
# process died) keeps its slot, renewed and noted as handed; 0 if it held none.
_KEEP = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZADD', KEYS[2], now, ARGV[1])
return 1
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
class SlotRequest:
    account: str
    holder: str
    limit: int
    lease_s: float
    user: str


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
        self._keep = client.register_script(_KEEP)

    @staticmethod
    def _keys(account: str) -> list[str]:
        return [leases_key(account), handed_key(account), waiting_key(account)]

    def acquire(
        self, account: str, holder: str, limit: int, lease_s: float, user: str = ""
    ) -> Acquired:
        """Take a slot for `holder` (a block of `user`'s), or queue it in line (granted=False)."""
        args = [slots_prefix(account), holder, user, limit, int(lease_s * 1000), 0]
        result = self._acquire(keys=self._keys(account), args=args)
        return Acquired(bool(int(result[0])), [str(h) for h in result[1:]])

    def acquire_for_later(self, requests: list[SlotRequest]) -> list[Acquired]:
        """Take slots for many holders whose tasks are yet to be sent, in one round trip: each
        granted one is noted as handed over, so if its task is never sent, `stranded` finds it;
        the others join the line and need no task until they are handed a slot."""
        with self.redis.pipeline(transaction=False) as pipe:
            for r in requests:
                args = [
                    slots_prefix(r.account),
                    r.holder,
                    r.user,
                    r.limit,
                    int(r.lease_s * 1000),
                    1,
                ]
                queue_script(pipe, self._acquire, self._keys(r.account), args)
            results = execute(pipe)  # scripts alone: a NOSCRIPT ran none of them
        return [Acquired(bool(int(r[0])), [str(h) for h in r[1:]]) for r in results]

    def release(self, account: str, holder: str, limit: int, lease_s: float) -> list[str]:
        """Give the slot back; the waiters handed a slot, whose tasks the caller re-sends."""
        args = [slots_prefix(account), holder, limit, int(lease_s * 1000)]
        return [str(h) for h in self._release(keys=self._keys(account), args=args)]

    def hand_free(self, account: str, limit: int, lease_s: float) -> list[str]:
        """Hand every free slot to the next in line (a pool grew, or a dead holder's slot was
        freed); the waiters handed one, whose tasks the caller sends."""
        return self.release(account, "", limit, lease_s)

    def keep_for_resend(self, account: str, holder: str, lease_s: float) -> bool:
        """A holder whose process died keeps its slot for its task sent again, noted as handed
        (so `stranded` finds it if that task never starts): it had its turn. False if it held
        no slot."""
        args = [holder, int(lease_s * 1000)]
        return bool(self._keep(keys=[leases_key(account), handed_key(account)], args=args))

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
            pipe.smembers(waiting_key(account))
            pipe.zrange(handed_key(account), 0, -1)
            waiting, handed = pipe.execute()
        return [*waiting, *handed]


def holder_id(job_id: str, index: int) -> str:
    return f"{job_id}:{index}"


def parse_holder(holder: str) -> tuple[str, int]:
    job_id, index = holder.rsplit(":", 1)
    return job_id, int(index)
