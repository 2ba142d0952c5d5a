"""A worker node's metrics: what its tasks count and time, gathered across its processes.

A prefork pool counts in many processes, so prometheus_client runs in multiprocess mode: each
process writes its figures to files in one folder per worker node (DATA_DIR/metrics/{node}),
emptied when the node starts, and the node's main process serves the sum of them on
WORKER_METRICS_PORT. A pool process that exits is marked dead, so its files stop counting as
a live process's. The metrics themselves are defined in utils/metrics.py.

`use_multiprocess` must run before the first metric value exists (Celery's celeryd_init; see
workers/lifecycle.py).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import redis

from utils.jobs.store import JobStore
from utils.logs import note
from utils.metrics import BLOCKS, COMBINE_DURATION, PROVIDER_DURATION, provider_label

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_dir(data_dir: Path, nodename: str) -> Path:
    return data_dir / "metrics" / re.sub(r"[^A-Za-z0-9._-]", "_", nodename)


def use_multiprocess(folder: Path) -> None:
    """Count in files under `folder` from now on, in this process and the ones it forks."""
    from prometheus_client import values

    shutil.rmtree(folder, ignore_errors=True)  # a previous run's figures are not this one's
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(folder)
    # prometheus_client picks its value class when first imported; it may have been already.
    values.ValueClass = values.MultiProcessValue()


def serve(port: int) -> None:
    """Serve the node's metrics (every process's, summed) on `port`, from a daemon thread."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    try:
        start_http_server(port, registry=registry)
    except OSError as exc:  # the port taken: the worker works on, without metrics
        log.warning("worker metrics not served on port %d: %s", port, exc.strerror or exc)
        return
    log.info("worker metrics on port %d (/metrics)", port)


def process_exited(pid: int) -> None:
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


@contextmanager
def provider_call(provider: str):
    """Time one provider call: a histogram by provider and outcome, and a log line."""
    note(provider=provider)
    start, outcome = time.perf_counter(), "error"
    try:
        yield
        outcome = "ok"
    finally:
        elapsed = time.perf_counter() - start
        PROVIDER_DURATION.labels(provider_label(provider), outcome).observe(elapsed)
        log.info(
            "provider call %s", outcome, extra={"provider": provider, "duration_ms": ms(elapsed)}
        )


@contextmanager
def combine_timer(family: str):
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    COMBINE_DURATION.labels(family).observe(elapsed)
    log.info("combined", extra={"duration_ms": ms(elapsed)})


def count_block(jobs: JobStore, job_id: str, index: int, outcome: str) -> None:
    """One block task finished with `outcome`; its provider read from the block's record."""
    try:
        provider = jobs.provider_of(job_id, index) or "unknown"
    except redis.RedisError:
        provider = "unknown"
    BLOCKS.labels(provider_label(provider), outcome).inc()


def ms(seconds: float) -> int:
    return round(seconds * 1000)
