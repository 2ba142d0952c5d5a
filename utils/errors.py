"""The service's exceptions, in one tree. api/errors.py maps each branch to HTTP once.

    ServiceError
    ├── InvalidRequest        a request names something we cannot do (422), with field errors
    │   └── CallbackRefused       a callback_url the service will not call (scheme, address)
    ├── NotFound              unknown id, or an id that belongs to someone else (404)
    ├── NotReady              a result asked for before the job completed (409)
    ├── Unavailable           a dependency (the job queue) is down; nothing was accepted (503)
    ├── RateLimited           too many requests for a rate limit; try after retry_after_s (429)
    ├── LimitReached          a user holds the most of something allowed (API keys) (409)
    ├── ProviderError         a TTS provider could not synthesize
    │   ├── ProviderRetryable     429, 5xx, timeouts, connection errors: try again later
    │   └── ProviderRejected      400/401/403/422 and the like: retrying cannot help
    ├── SynthesisFailed       audio a request waits for could not be made (502)
    ├── SynthesisTimedOut     audio a request waits for was not made in time (504)
    ├── StorageError          audio could not be stored or read
    │   ├── ObjectNotFound        nothing is stored under that key (never written, or purged)
    │   └── StoreFull             no space left where it is written (DATA_DIR, TEMP_DIR)
    └── ConfigurationError    the service is configured in a way that cannot work

SDK, Redis and filesystem errors are translated into these at the boundary (`raise ... from`),
so callers never depend on a third-party exception type, and messages never carry secrets.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass


class ServiceError(Exception):
    """Base of every error the service raises on purpose."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a request, e.g. loc=("blocks", 2, "voice")."""

    loc: tuple[str | int, ...]
    message: str

    @property
    def field(self) -> str:
        """A JSON-path-like name a person can read: blocks[2].voice."""
        name = ""
        for part in self.loc:
            name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
        return name


class InvalidRequest(ServiceError):
    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


class CallbackRefused(InvalidRequest):
    """A webhook URL refused: at submit a 422 naming callback_url, at delivery a failed attempt.
    `reason` says why (the scheme, a host that does not resolve, an address not allowed)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__([FieldError(("callback_url",), reason)])


class NotFound(ServiceError):
    pass


class NotReady(ServiceError):
    def __init__(self, message: str, status: str):
        self.status = status
        super().__init__(message)


class Unavailable(ServiceError):
    pass


class RateLimited(ServiceError):
    def __init__(self, message: str, retry_after_s: int):
        self.retry_after_s = retry_after_s
        super().__init__(message)


class LimitReached(ServiceError):
    pass


class ProviderError(ServiceError):
    def __init__(self, provider: str, message: str, status_code: int | None = None):
        self.provider = provider
        self.status_code = status_code
        prefix = f"{provider}: HTTP {status_code}" if status_code else provider
        super().__init__(f"{prefix}: {message}" if message else prefix)


class ProviderRetryable(ProviderError):
    def __init__(
        self,
        provider: str,
        message: str,
        status_code: int | None = None,
        retry_after_s: float | None = None,
    ):
        self.retry_after_s = retry_after_s
        super().__init__(provider, message, status_code)


class ProviderRejected(ProviderError):
    pass


class StorageError(ServiceError):
    pass


class ObjectNotFound(StorageError):
    pass


class StoreFull(StorageError):
    pass


# A disk (or the user's quota on it) that is full: said as such, not as an internal error.
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def disk_error(exc: OSError, message: str, where: str = "DATA_DIR") -> StorageError:
    """An OSError of a write to `where` (the setting naming the folder, never its path)."""
    if exc.errno in NO_SPACE:
        return StoreFull(f"no space left on the store ({where}): {message}")
    return StorageError(message)


class ConfigurationError(ServiceError):
    pass


class SynthesisFailed(ServiceError):
    """The audio a request waits for (a speech response's first piece) could not be made; the
    message says why, from the job's own error."""


class SynthesisTimedOut(ServiceError):
    """The audio a request waits for was not made in time (no worker took it, or all are busy);
    the work stays queued and is made later (504)."""
