"""Whether an expired heartbeat may be read as a death now (utils/jobs/liveness.py).

After Redis was out of reach (down, failing over) every heartbeat may have expired with its
process alive. So each look for lost blocks notes when it ran, by Redis's clock, in one hash
(`liveness_looks_key`: `last`, and `since`, when the looks began to run without a gap), and an
expiry counts only once they have run unbroken for WORKER_DEAD_AFTER_S.
"""

from __future__ import annotations

import redis

from settings.cluster import LivenessSettings
from utils.names import liveness_looks_key

# A look notes its time and how long looks have run unbroken: a gap longer than ARGV[1]
# seconds starts the count again. Redis's clock, so every machine's looks agree.
_LOOK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local last = tonumber(redis.call('HGET', KEYS[1], 'last'))
local since = tonumber(redis.call('HGET', KEYS[1], 'since'))
if not last or not since or now - last > tonumber(ARGV[1]) then
  since = now
  redis.call('HSET', KEYS[1], 'since', string.format('%.6f', since))
end
redis.call('HSET', KEYS[1], 'last', string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return string.format('%.6f', now - since)
"""


def expiries_count(client: redis.Redis, liveness: LivenessSettings) -> bool:
    """Note a look for lost blocks; whether a heartbeat found expired now means a dead process.

    It does once the looks have run unbroken for WORKER_DEAD_AFTER_S: by then every live
    process has beaten since Redis last answered it (it tries every heartbeat). A gap between
    looks that an outage could hide, long enough for a heartbeat to expire (WORKER_DEAD_AFTER_S
    less one heartbeat) or a look missed (one and a half WORKER_CHECK_S), starts the count
    again; so does the first look on a Redis that has none noted. Meanwhile only the deaths
    /proc shows are acted on, and a death elsewhere waits at most WORKER_DEAD_AFTER_S more."""
    gap_s = max(liveness.dead_after_s - liveness.heartbeat_s, 1.5 * liveness.check_s)
    look = client.register_script(_LOOK)
    unbroken_s = float(look(keys=[liveness_looks_key()], args=[gap_s, 24 * 3600]))
    return unbroken_s >= liveness.dead_after_s
