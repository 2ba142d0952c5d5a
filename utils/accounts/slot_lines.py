"""A cancelled job's blocks taken out of the accounts' waiting lines (utils/accounts/slots.py),
so the slots they waited for go to the next user's or job's blocks at once.

The line's keys are those the scripts of slots.py name: the job's own list of waiting blocks
(`{prefix}:job:{id}`), its place in its user's list of jobs (`{prefix}:user:{name}`), and the
user's place in the list of users (`{prefix}:users`), plus the set of every waiting holder.

Blocks of the job that already hold a slot are not touched here: one in flight keeps it until
its provider call ends; one handed a slot but not started finds its job cancelled when its task
starts, and gives the slot back then (workers/synthesis.py), as it would for any finished job.
"""

from __future__ import annotations

import redis

from utils.names import slots_prefix, waiting_key
from utils.redis_scripts import execute, queue_script

# KEYS: waiting. ARGV: the account's prefix, job id, owner. Returns how many blocks left.
_LEAVE = """
local prefix, job, user = ARGV[1], ARGV[2], ARGV[3]
local job_line = prefix .. ':job:' .. job
local holders = redis.call('LRANGE', job_line, 0, -1)
for _, holder in ipairs(holders) do redis.call('SREM', KEYS[1], holder) end
redis.call('DEL', job_line)
local user_line = prefix .. ':user:' .. user
redis.call('LREM', user_line, 0, job)
if redis.call('LLEN', user_line) == 0 then
  redis.call('DEL', user_line)
  redis.call('LREM', prefix .. ':users', 0, user)
end
return #holders
"""


class SlotLines:
    def __init__(self, client: redis.Redis):
        self.redis = client
        self._leave = client.register_script(_LEAVE)

    def leave(self, accounts: set[str], job_id: str, owner: str) -> int:
        """Take every waiting block of the job out of the lines of `accounts` (in one round
        trip; an account it waits in none of costs nothing). How many blocks left a line."""
        with self.redis.pipeline(transaction=False) as pipe:
            for account in sorted(accounts):
                args = [slots_prefix(account), job_id, owner]
                queue_script(pipe, self._leave, [waiting_key(account)], args)
            return sum(int(n) for n in execute(pipe))  # scripts alone
