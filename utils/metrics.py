"""Every Prometheus metric the service's processes count or time, in one place.

The API serves its own at GET /metrics (api/metrics.py), with gauges read from Redis at scrape
time (utils/metrics_redis.py). A worker node gathers its processes' figures in multiprocess
mode and serves them on WORKER_METRICS_PORT (workers/metrics.py). A metric is named once here,
and the Grafana dashboard (deploy/grafana/tts-dashboard.json) queries these names only (a test
checks that).

Labels are kept few and bounded: routes as templates (`/status/{job_id}`), never raw paths;
a user's own provider account is `user-account`, never its owner's name.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from utils.accounts.user_accounts import SEPARATOR

# Seconds. HTTP and provider calls from a few ms to a minute; a combine up to minutes.
FAST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
SLOW_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

HTTP_REQUESTS = Counter(
    "tts_http_requests", "HTTP requests answered, by route template", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "tts_http_request_duration_seconds",
    "Time to answer an HTTP request (a stream: until its last byte)",
    ["method", "route"],
    buckets=FAST_BUCKETS,
)
JOBS = Counter("tts_jobs", "Jobs finished, by outcome (completed, failed)", ["outcome"])
BLOCKS = Counter(
    "tts_blocks",
    "Block tasks finished, by provider and outcome (completed, failed, retried, skipped)",
    ["provider", "outcome"],
)
PROVIDER_DURATION = Histogram(
    "tts_provider_request_duration_seconds",
    "Time a provider took to synthesize one block, by outcome (ok, error)",
    ["provider", "outcome"],
    buckets=FAST_BUCKETS,
)
SLOT_HANDOFFS = Counter(
    "tts_slot_handoffs",
    "Blocks handed a freed slot, by how they started (here: in the process that freed it, "
    "broker: sent as a task)",
    ["route"],
)
CACHE_LOOKUPS = Counter(
    "tts_cache_lookups", "Block audio looked up in the cache, by result (hit, miss)", ["result"]
)
COMBINE_DURATION = Histogram(
    "tts_combine_duration_seconds",
    "Time to combine a job's blocks into its file, by format family",
    ["family"],
    buckets=SLOW_BUCKETS,
)

# Gauges read from Redis when scraped (utils/metrics_redis.py); named here with the rest.
SLOTS_IN_USE = "tts_account_slots_in_use"
BLOCKS_WAITING = "tts_account_blocks_waiting"
QUEUE_DEPTH = "tts_queue_depth"
LOCAL_ENGINE_PROCESSES = "tts_local_engine_processes"


def provider_label(name: str) -> str:
    """A provider's name as a label: users' own accounts all count as one."""
    return "user-account" if SEPARATOR in name else name
