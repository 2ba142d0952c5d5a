"""What the local pool's processes run their engines on (cuda or cpu), told by each process as
it starts and read for /ready and /metrics.

The setting (LOCAL_DEVICE) says what was asked; a session says what it got, and a GPU image on
a machine whose driver is missing gets the CPU: operators see the difference here, per process,
instead of finding it in the latency. Entries of processes found dead are dropped with their
heartbeats (utils/jobs/liveness.py forget_workers).
"""

from __future__ import annotations

from collections import Counter

import redis

from utils.names import local_devices_key


def record(client: redis.Redis, worker: str, devices: dict[str, str]) -> None:
    """`worker`'s engines: provider name -> cuda or cpu."""
    text = ",".join(f"{name}={device}" for name, device in sorted(devices.items()))
    client.hset(local_devices_key(), worker, text)


def parse(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split(",") if "=" in item)


def tally(client: redis.Redis, live: list[str]) -> Counter[tuple[str, str]]:
    """(provider, device) -> how many of the `live` processes run it so."""
    counts: Counter[tuple[str, str]] = Counter()
    if not live:
        return counts
    for text in client.hmget(local_devices_key(), live):
        counts.update(parse(text or "").items())
    return counts


def describe(counts: Counter[tuple[str, str]]) -> str:
    """ "kokoro on cuda (1), piper on cpu (2)": for the readiness probe's detail."""
    return ", ".join(f"{name} on {device} ({n})" for (name, device), n in sorted(counts.items()))
