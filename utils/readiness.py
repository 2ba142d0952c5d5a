"""Whether this service can do its work now: the checks behind GET /ready and /health.

    redis     the job store answers PING
    broker    Celery's broker answers (a kombu connection, as tasks are sent)
    storage   a tiny object can be written under health/ (one write per READY_STORAGE_CHECK_S
              at most, the answer reused meanwhile: on a cloud backend each is an upload), and,
              where the backend can tell (local disk), at least MIN_FREE_BYTES are free: looked
              at on every probe, so a disk that fills is reported at once, not when the reused
              answer runs out
    workers   at least one worker process beats (utils/jobs/liveness.py's pool sets), and none
              beating announces a storage other than this API's (utils/jobs/shared_storage.py)

Each check gives up within CHECK_TIMEOUT_S and says what failed in words, never with a URL
(it may hold a password).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

from kombu import Connection

from utils import local_devices
from utils.clock import now_iso
from utils.jobs.liveness import live_workers
from utils.jobs.shared_storage import workers_not_sharing
from utils.redis_client import connect_fast, sentinel_transport_options
from utils.storage.base import Storage
from utils.storage.identity import StorageIdentity

CHECK_TIMEOUT_S = 2.0
# Under this much room a job's audio may not fit (an hour of 64 kbit/s MP3 is 29 MB, and a
# combine writes the file beside its blocks): not ready for more work.
MIN_FREE_BYTES = 64 * 1024 * 1024
HEALTH_PREFIX = "health/"
CHECKS = ("redis", "broker", "storage", "workers")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    ms: int

    def as_dict(self) -> dict:
        return {"ok": self.ok, "detail": self.detail, "ms": self.ms}


class Readiness:
    def __init__(
        self,
        redis_url: str,
        storage: Storage,
        storage_every_s: float,
        identity: StorageIdentity | None = None,
        sentinel=None,
    ):
        self.redis_url = redis_url
        self.identity = identity  # this API's storage, which every worker must share
        # A client of its own that fails fast: the service's ride out outages on purpose.
        self.client = connect_fast(redis_url, CHECK_TIMEOUT_S, sentinel)
        self.sentinel = sentinel
        self.storage = storage
        self.storage_every_s = storage_every_s
        self._storage_answer: tuple[float, Check] | None = None
        self._storage_lock = threading.Lock()

    def checks(self, names: tuple[str, ...] = CHECKS) -> list[Check]:
        return [
            self.storage_check() if name == "storage" else _timed(name, getattr(self, f"_{name}"))
            for name in names
        ]

    def _redis(self) -> str:
        self.client.ping()
        return "answers"

    def _broker(self) -> str:
        with Connection(
            self.redis_url,
            connect_timeout=CHECK_TIMEOUT_S,
            transport_options={
                "socket_timeout": CHECK_TIMEOUT_S,
                "socket_connect_timeout": CHECK_TIMEOUT_S,
                **sentinel_transport_options(self.sentinel),
            },
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=CHECK_TIMEOUT_S)
            conn.default_channel.client.ping()
        return "answers"

    def _storage(self) -> str:
        key = f"{HEALTH_PREFIX}{socket.gethostname()}"
        self.storage.put_bytes(key, now_iso().encode())  # one fixed object, overwritten
        return "writable"

    def storage_check(self) -> Check:
        """The storage write, at most once per `storage_every_s`; the last answer meanwhile.
        A full disk is told at once."""
        full = _timed("storage", self._room)
        if not full.ok:
            return full
        with self._storage_lock:
            now = time.monotonic()
            if self._storage_answer and now - self._storage_answer[0] < self.storage_every_s:
                return self._storage_answer[1]
            check = _timed("storage", self._storage)
            self._storage_answer = (now, check)
            return check

    def _room(self) -> str:
        free = self.storage.free_bytes()
        if free is not None and free < MIN_FREE_BYTES:
            raise RuntimeError(
                f"storage is full: {free // 2**20} MiB free, under {MIN_FREE_BYTES // 2**20} MiB"
            )
        return "room"

    def _workers(self) -> str:
        local = live_workers(self.client, local=True)
        network = live_workers(self.client, local=False)
        if not (local or network):
            raise RuntimeError("no worker process beats")
        others = workers_not_sharing(self.client, self.identity) if self.identity else []
        if others:
            named = "; ".join(f"worker {w} stores to {theirs.text}" for w, theirs in others)
            raise RuntimeError(f"{named}; this API serves from {self.identity.text}")
        detail = f"{len(local)} local, {len(network)} network processes beating"
        devices = local_devices.describe(local_devices.tally(self.client, local))
        return f"{detail}; local engines: {devices}" if devices else detail

    def close(self) -> None:
        self.client.close()


def _timed(name: str, probe) -> Check:
    start = time.perf_counter()
    try:
        detail, ok = probe(), True
    except Exception as exc:  # a probe reports what failed; it never raises
        detail, ok = _describe(name, exc), False
    return Check(name, ok, detail, round((time.perf_counter() - start) * 1000))


def _describe(name: str, exc: Exception) -> str:
    if isinstance(exc, RuntimeError):
        return str(exc)
    problem = {
        "redis": "Redis does not answer",
        "broker": "the broker does not answer",
        "storage": "storage is not writable",
        "workers": "worker heartbeats cannot be read",
    }[name]
    return f"{problem} ({type(exc).__name__})"
