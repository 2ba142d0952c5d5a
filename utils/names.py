"""Every name the service's processes share: Redis keys, Celery queues and task names.

The API, the workers, beat, the benchmarks and the tests all take names from here, so a key
or a queue is spelled once. What each key holds (its type, its fields, what expires it) is
described once, in docs/ARCHITECTURE.md's "Redis schema" table, which names the function here
that builds it: add a key here and a row there. Our keys start with `tts:` (the rate limits'
inside the prefix slowapi adds); the broker's own keys are kombu's and have no prefix.
"""

PREFIX = "tts"


def job_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}"


def block_key(job_id: str, index: int) -> str:
    return f"{PREFIX}:job:{job_id}:block:{index}"


def done_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:done"


def timings_key(job_id: str) -> str:
    """Apart from the block hashes, which every status poll reads whole: timings (with words)
    are larger than everything else a block records, and only /timings needs them."""
    return f"{PREFIX}:job:{job_id}:timings"


def combine_marker_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:combine"


def job_events_channel(job_id: str) -> str:
    """Pub/sub channel of a job's changes: {"block": i, "status": ...} or {"status": ...}."""
    return f"{PREFIX}:job:{job_id}:events"


def open_streams_key(username: str) -> str:
    return f"{PREFIX}:streams:{username}"


def active_jobs_key() -> str:
    return f"{PREFIX}:jobs:active"


def running_blocks_key() -> str:
    return f"{PREFIX}:blocks:running"


def running_field(job_id: str, index: int) -> str:
    return f"{job_id}:{index}"


def liveness_looks_key() -> str:
    """When beat last looked for lost blocks, and since when its looks have run unbroken."""
    return f"{PREFIX}:liveness:looks"


def worker_heartbeat_key(worker: str) -> str:
    return f"{PREFIX}:worker:{worker}"


def local_workers_key() -> str:
    return f"{PREFIX}:workers:local"


def network_workers_key() -> str:
    """Worker processes outside the local pool, by heartbeat expiry: what the readiness probe
    and `scripts.worker_alive network` look at (no key scan)."""
    return f"{PREFIX}:workers:network"


def api_storage_key() -> str:
    """The storage the API serves from, as it announced it at its start (JSON of a
    utils/storage/identity.py StorageIdentity): what every worker must share."""
    return f"{PREFIX}:storage:api"


def local_devices_key() -> str:
    """What each local-pool process runs its engines on (worker -> "piper=cpu,kokoro=cuda"),
    written at its start (utils/local_devices.py), read for /ready and /metrics."""
    return f"{PREFIX}:workers:devices"


def user_key(username: str) -> str:
    return f"{PREFIX}:user:{username}"


def user_accounts_key(username: str) -> str:
    return f"{PREFIX}:user:{username}:accounts"


def user_api_keys_key(username: str) -> str:
    return f"{PREFIX}:user:{username}:apikeys"


def user_jobs_key(username: str) -> str:
    """The user's jobs by creation time, newest last; it expires with the newest job, and
    entries of jobs that expired before it are pruned when read (utils/jobs/listing.py)."""
    return f"{PREFIX}:user:{username}:jobs"


def user_lexicons_key(username: str) -> str:
    """The user's pronunciation lexicons, name -> JSON (utils/lexicons/store.py)."""
    return f"{PREFIX}:user:{username}:lexicons"


def lexicon_versions_key(username: str) -> str:
    """A counter: each edit of one of the user's lexicons takes the next number as its version."""
    return f"{PREFIX}:user:{username}:lexicons:version"


def user_projects_key(username: str) -> str:
    """The user's projects, id -> JSON with its version (utils/projects/store.py); no TTL:
    a project stays until its owner deletes it."""
    return f"{PREFIX}:user:{username}:projects"


def user_project_renders_key(username: str) -> str:
    """Each project's last render, id -> JSON {job_id, version}: apart from the project, so
    that rendering never changes the version a tab holds."""
    return f"{PREFIX}:user:{username}:projects:renders"


def api_key_key(digest: str) -> str:
    return f"{PREFIX}:apikey:{digest}"


def slots_prefix(account: str) -> str:
    """Every key of an account's slots starts so (the waiting line's keys are made from it
    inside utils/accounts/slots.py's scripts)."""
    return f"{PREFIX}:slots:{account}"


def leases_key(account: str) -> str:
    return f"{slots_prefix(account)}:leases"


def waiting_key(account: str) -> str:
    return f"{slots_prefix(account)}:waiting"


def handed_key(account: str) -> str:
    return f"{slots_prefix(account)}:handed"


def cache_key(digest: str) -> str:
    return f"{PREFIX}:cache:{digest}"


def webhook_marker_key(job_id: str, event: str) -> str:
    return f"{PREFIX}:job:{job_id}:webhook:{event}"


def webhook_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:webhook"


def webhook_lock_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:webhook:lock"


def webhooks_due_key() -> str:
    return f"{PREFIX}:webhooks:due"


def webhook_secret_key(username: str) -> str:
    return f"{PREFIX}:user:{username}:webhook_secret"


RATE_LIMIT_PREFIX = f"{PREFIX}:ratelimit"

# Celery queues. Blocks go by their provider's kind: local synthesis (Piper) is CPU-bound and
# runs on one process per core; a cloud provider's call is a network wait, run on a pool of
# many threads. Control work (fanning a job out, combining) must never wait behind either, so
# it has a queue of its own, as has beat's housekeeping.
LOCAL_BLOCKS_QUEUE = "tts.blocks.local"
NETWORK_BLOCKS_QUEUE = "tts.blocks.network"
CONTROL_QUEUE = "tts.control"
MAINTENANCE_QUEUE = "tts.maintenance"
ALL_QUEUES = (LOCAL_BLOCKS_QUEUE, NETWORK_BLOCKS_QUEUE, CONTROL_QUEUE, MAINTENANCE_QUEUE)
# The local (CPU) pool's processes take local blocks; the network pool's threads take the
# rest: cloud blocks, control work and housekeeping.
LOCAL_POOL_QUEUES = (LOCAL_BLOCKS_QUEUE,)
NETWORK_POOL_QUEUES = (NETWORK_BLOCKS_QUEUE, CONTROL_QUEUE, MAINTENANCE_QUEUE)
LOCAL_POOL = "local-cpu"  # the account-slot name of the local pool: one slot per process

# Celery task names, and the queue each goes to.
PROCESS_BLOCK = "tts.process_block"
DISPATCH_BLOCKS = "tts.dispatch_blocks"
COMBINE_BLOCKS = "tts.combine_blocks"
PURGE_STORAGE = "tts.purge_storage"
CHECK_STALLED = "tts.check_stalled_jobs"
RECOVER_LOST = "tts.recover_lost_work"
# Webhooks ride the maintenance queue: an attempt may wait on a slow receiver for seconds,
# which must delay neither blocks nor a combine (control), only housekeeping that can wait.
DELIVER_WEBHOOK = "tts.deliver_webhook"
SEND_DUE_WEBHOOKS = "tts.send_due_webhooks"

TASK_QUEUES = {  # PROCESS_BLOCK is sent to its provider's queue, never by this table
    PROCESS_BLOCK: NETWORK_BLOCKS_QUEUE,
    DISPATCH_BLOCKS: CONTROL_QUEUE,
    COMBINE_BLOCKS: CONTROL_QUEUE,
    PURGE_STORAGE: MAINTENANCE_QUEUE,
    CHECK_STALLED: MAINTENANCE_QUEUE,
    RECOVER_LOST: MAINTENANCE_QUEUE,
    DELIVER_WEBHOOK: MAINTENANCE_QUEUE,
    SEND_DUE_WEBHOOKS: MAINTENANCE_QUEUE,
}
