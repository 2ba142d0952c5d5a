"""Gauges read from Redis at scrape time: account slots in use, blocks waiting for a slot, and
the depth of each Celery queue.

These are facts of the whole cluster, kept in Redis, so they are read when Prometheus asks
rather than counted by any one process (which would see only its own share). One pipelined
round trip per scrape:

    tts:slots:{account}:leases    ZCOUNT of unexpired leases   -> tts_account_slots_in_use
    tts:slots:{account}:waiting   SCARD                        -> tts_account_blocks_waiting
    {queue}                       LLEN (kombu's list)          -> tts_queue_depth
    tts:workers:devices           HGETALL, live local processes -> tts_local_engine_processes

Accounts are the local pool and the configured providers with a limit; users' own accounts
are left out (their names carry the user's, and there may be many).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from utils import local_devices
from utils.metrics import BLOCKS_WAITING, LOCAL_ENGINE_PROCESSES, QUEUE_DEPTH, SLOTS_IN_USE
from utils.names import (
    ALL_QUEUES,
    LOCAL_POOL,
    leases_key,
    local_devices_key,
    local_workers_key,
    waiting_key,
)

log = logging.getLogger(__name__)


class RedisStateCollector(Collector):
    """`accounts` is called at each scrape, so accounts configured later are seen."""

    def __init__(self, client: redis.Redis, accounts: Callable[[], Iterable[str]]):
        self.client = client
        self.accounts = accounts

    def describe(self):
        return []  # nothing is read at registration; collect() reads Redis when scraped

    def collect(self):
        accounts = [LOCAL_POOL, *(a for a in self.accounts() if a != LOCAL_POOL)]
        now_ms = int(time.time() * 1000)
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for account in accounts:
                    pipe.zcount(leases_key(account), now_ms, "+inf")
                    pipe.scard(waiting_key(account))
                for queue in ALL_QUEUES:
                    pipe.llen(queue)
                pipe.zrangebyscore(local_workers_key(), time.time(), "+inf")
                pipe.hgetall(local_devices_key())
                answers = pipe.execute()
            live, devices = set(answers[-2]), answers[-1]
            answers = answers[:-2]
        except redis.RedisError as exc:
            # A scrape without these gauges says Redis is gone; the HTTP figures still go out.
            log.warning("metrics: Redis not read (%s)", type(exc).__name__)
            return
        in_use = GaugeMetricFamily(SLOTS_IN_USE, "Account slots held now", labels=["account"])
        waiting = GaugeMetricFamily(
            BLOCKS_WAITING, "Blocks waiting for an account slot", labels=["account"]
        )
        for i, account in enumerate(accounts):
            in_use.add_metric([account], answers[2 * i])
            waiting.add_metric([account], answers[2 * i + 1])
        depth = GaugeMetricFamily(QUEUE_DEPTH, "Messages waiting in a queue", labels=["queue"])
        for queue, length in zip(ALL_QUEUES, answers[2 * len(accounts) :], strict=True):
            depth.add_metric([queue], length)
        engines = GaugeMetricFamily(
            LOCAL_ENGINE_PROCESSES,
            "Live local-pool processes running a provider's model on a device (cuda, cpu)",
            labels=["provider", "device"],
        )
        counts = Counter()
        for worker, text in devices.items():
            if _text(worker) in live:
                counts.update(local_devices.parse(_text(text)).items())
        for (provider, device), n in sorted(counts.items()):
            engines.add_metric([provider, device], n)
        yield from (in_use, waiting, depth, engines)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value
