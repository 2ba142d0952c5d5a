"""What cloud providers share: sorting upstream failures into retry-or-not, and keeping
API keys out of every message."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

from utils.errors import ProviderError, ProviderRejected, ProviderRetryable

RETRYABLE_STATUSES = {408, 409, 425, 429}
MAX_MESSAGE_CHARS = 300


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After as seconds, whether given as a number or an HTTP date."""
    value = (headers or {}).get("retry-after") or (headers or {}).get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def message_from_body(body: object) -> str:
    """The provider's own words from an error body of any of the usual shapes."""
    if isinstance(body, Mapping):
        for key in ("detail", "error"):
            inner = body.get(key)
            if isinstance(inner, Mapping) and inner.get("message"):
                return str(inner["message"])
            if isinstance(inner, str):
                return inner
        if body.get("message"):
            return str(body["message"])
    return str(body) if body else ""


def redact(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "[redacted]")
    return text[:MAX_MESSAGE_CHARS]


def upstream_error(
    provider: str,
    status: int | None,
    message: str,
    secret: str | None,
    headers: Mapping[str, str] | None = None,
    retryable: bool | None = None,
) -> ProviderError:
    """429, 5xx and the like are worth another try; 400/401/403/422 are not. `retryable`
    overrides the status where the provider says more (an error code in its body)."""
    message = redact(message, secret)
    if retryable is None:
        retryable = status is None or status in RETRYABLE_STATUSES or status >= 500
    if retryable:
        return ProviderRetryable(provider, message, status, retry_after_seconds(headers))
    return ProviderRejected(provider, message, status)
