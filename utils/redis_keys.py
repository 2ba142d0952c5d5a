"""Every Redis key the service writes, in one place. All start with `tts:`.

    tts:job:{id}                  hash: the job (owner, status, n_blocks, format, timestamps...)
    tts:job:{id}:block:{i}        hash: one block's request and progress
    tts:job:{id}:done             set: indices of finished blocks
    tts:job:{id}:combine          marker: SET NX by the one task that enqueues the combine
    tts:jobs:active               zset: unfinished jobs, where the stall check looks
    tts:user:{name}               hash: a user's password hash
    tts:limit:{provider}:leases   zset: slots of a provider account held, by lease expiry
    tts:limit:{provider}:waiting  list: blocks waiting for a slot
    tts:limit:{provider}:handed   zset: blocks handed a slot whose task has not started, by when
    tts:cache:{sha256}            hash: cached block audio
    tts:ratelimit...              slowapi's counters (under the limits library's own prefix)

Celery's own keys (queues, unacked messages) are kombu's and have no prefix.
"""

PREFIX = "tts"


def job_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}"


def block_key(job_id: str, index: int) -> str:
    return f"{PREFIX}:job:{job_id}:block:{index}"


def done_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:done"


def combine_marker_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:combine"


def active_jobs_key() -> str:
    return f"{PREFIX}:jobs:active"


def user_key(username: str) -> str:
    return f"{PREFIX}:user:{username}"


def leases_key(provider: str) -> str:
    return f"{PREFIX}:limit:{provider}:leases"


def waiting_key(provider: str) -> str:
    return f"{PREFIX}:limit:{provider}:waiting"


def handed_key(provider: str) -> str:
    return f"{PREFIX}:limit:{provider}:handed"


def cache_key(digest: str) -> str:
    return f"{PREFIX}:cache:{digest}"


RATE_LIMIT_PREFIX = f"{PREFIX}:ratelimit"
