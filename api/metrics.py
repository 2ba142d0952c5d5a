"""GET /metrics: the API's own figures (HTTP requests, cache lookups at submit) and the
cluster's gauges read from Redis at scrape time (account slots, blocks waiting, queue depths).

Workers serve their own on WORKER_METRICS_PORT (workers/metrics.py). Unauthenticated, as
Prometheus scrapes it: it names configured providers, never users or jobs; keep it behind the
proxy or network policy that keeps the rest of the service's internals in.

Under PROMETHEUS_MULTIPROC_DIR (the API under several uvicorn processes, set by whoever starts
them) the figures of every process are summed; otherwise they are this process's.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from utils.metrics_redis import RedisStateCollector

router = APIRouter(tags=["operations"])


def build_registry(redis_client, accounts) -> CollectorRegistry:
    """What GET /metrics serves: this process's (or every API process's) metrics, and the
    gauges read from Redis. `accounts` is called per scrape (utils/metrics_redis.py)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Default())
    registry.register(RedisStateCollector(redis_client, accounts))
    return registry


class _Default:
    """The default registry's metrics (ours, and the process and platform collectors)."""

    def collect(self):
        yield from REGISTRY.collect()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
