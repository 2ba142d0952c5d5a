"""A provider's voice list fetched from its API, without ever holding a caller long.

Submitting a job checks its voices against this list, so an upstream that is slow or down
must not stall submission: the list is kept for a while, a failure is remembered briefly (so
the next callers hear it at once instead of each waiting out a timeout), and only one fetch
runs at a time (the others get the last good list, or an error, at once).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from utils.errors import ProviderError, ProviderRetryable

T = TypeVar("T")

FAILURE_MEMORY_S = 30.0


class RememberedListing(Generic[T]):
    def __init__(
        self,
        provider: str,
        fetch: Callable[[], list[T]],
        ttl_s: float,
        failure_memory_s: float = FAILURE_MEMORY_S,
    ):
        self.provider = provider
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._failure_memory_s = failure_memory_s
        self._lock = threading.Lock()
        self._value: list[T] | None = None
        # monotonic() counts from boot, so "never" is None, not 0.0 (a machine up for less
        # than the TTL would otherwise look freshly listed)
        self._fetched_at: float | None = None
        self._failure: ProviderError | None = None
        self._failed_at: float | None = None
        self._fetching = False

    def get(self) -> list[T]:
        now = time.monotonic()
        with self._lock:
            if self._fetched_at is not None and now - self._fetched_at <= self._ttl_s:
                return list(self._value)
            if self._failed_at is not None and now - self._failed_at <= self._failure_memory_s:
                raise self._failure
            if self._fetching:
                if self._value is not None:
                    return list(self._value)  # a little stale beats waiting
                raise ProviderRetryable(self.provider, "voices are being listed; try again")
            self._fetching = True
        try:
            value = self._fetch()
        except ProviderError as exc:
            with self._lock:
                self._failure, self._failed_at, self._fetching = exc, time.monotonic(), False
            raise
        except BaseException:
            with self._lock:
                self._fetching = False
            raise
        with self._lock:
            self._value, self._fetched_at = value, time.monotonic()
            self._failure = self._failed_at = None
            self._fetching = False
        return list(value)
