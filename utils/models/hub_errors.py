"""What went wrong with the Hub, said so a person can act on it: the model (repo@revision),
the endpoint and a short reason; never the token, never a traceback or a header."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import httpx2
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from settings.hub import HubAccess
from utils.errors import NO_SPACE, ProviderRejected
from utils.models.hub_check import ChecksumMismatch

OFFLINE = "offline (HF_HUB_OFFLINE) and not in the cache"


class HubProblem(Exception):
    """A cause found here rather than raised by huggingface_hub, said as is."""


def shown_endpoint(access: HubAccess) -> str:
    """The endpoint without any user:password it may carry."""
    parts = urlsplit(access.endpoint)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", "")).rstrip("/")


def refused(owner: str, what: str, access: HubAccess, reason: str) -> ProviderRejected:
    """ProviderRejected: `what` (e.g. "model a/b@main could not be fetched") from the endpoint."""
    message = f"{what} from {shown_endpoint(access)}: {reason}"
    if access.token is not None and (secret := access.token.get_secret_value()):
        message = message.replace(secret, "***")
    return ProviderRejected(owner, message)


def unreachable(exc: BaseException | None) -> bool:
    """The Hub did not answer (refused, unresolvable, timed out, offline): the cache may do."""
    while exc is not None:
        if isinstance(exc, httpx2.TransportError | OfflineModeIsEnabled):
            return True
        exc = exc.__cause__
    return False


def reason(exc: BaseException, access: HubAccess) -> str:
    """A short cause of `exc`, one of huggingface_hub's errors, httpx2's or the disk's."""
    if isinstance(exc, ChecksumMismatch | HubProblem):
        return str(exc)
    if isinstance(exc, HfHubHTTPError):
        return _http_reason(exc, access)
    if isinstance(exc, OfflineModeIsEnabled):
        return f"{OFFLINE} ({cache_name(access)})"
    if isinstance(exc, httpx2.TimeoutException):
        return f"timed out (no answer within {access.etag_timeout_s:g} s)"
    if isinstance(exc, httpx2.TransportError):
        return f"the Hub could not be reached ({type(exc).__name__})"
    if isinstance(exc, LocalEntryNotFoundError):
        if exc.__cause__ is not None and unreachable(exc.__cause__):
            return reason(exc.__cause__, access)
        return f"{OFFLINE} ({cache_name(access)})"
    if isinstance(exc, HFValidationError):
        return "not a valid repository id or revision"
    if isinstance(exc, OSError):
        if exc.errno in NO_SPACE:
            return f"disk full: no space left in the model cache ({cache_name(access)})"
        if str(exc).startswith("Consistency check failed"):
            return "the download ended short of the size the Hub gives; try again"
        return f"the model cache ({cache_name(access)}) could not be written: {exc.strerror or exc}"
    return type(exc).__name__


def cache_name(access: HubAccess) -> str:
    return f"HF_HUB_CACHE {access.cache_dir}" if access.cache_dir else "HF_HUB_CACHE"


def _http_reason(exc: HfHubHTTPError, access: HubAccess) -> str:
    status = exc.response.status_code if exc.response is not None else None
    prefix = f"HTTP {status}" if status else "HTTP error"
    if isinstance(exc, GatedRepoError):
        if access.token is not None:
            return (
                f"{prefix}: the repository is gated and the token given (HF_TOKEN) has no access "
                "to it; accept its terms on the Hub with that account"
            )
        return f"{prefix}: the repository is gated; accept its terms on the Hub and set HF_TOKEN"
    if isinstance(exc, RevisionNotFoundError):
        return f"{prefix}: no such revision"
    if isinstance(exc, RemoteEntryNotFoundError):
        return f"{prefix}: a file of the repository is missing"
    if isinstance(exc, RepositoryNotFoundError):
        return f"{prefix}: no such repository (a private one needs HF_TOKEN)"
    if status == 401:
        return f"{prefix}: the Hub refused the token (HF_TOKEN)"
    if status == 403:
        return f"{prefix}: access refused (check HF_TOKEN)"
    if status == 429:
        return f"{prefix}: too many requests to the Hub; try later"
    if status is not None and status >= 500:
        return f"{prefix}: the Hub failed; try later"
    return prefix
