"""Credentials in a URL's query string never reach the access log.

uvicorn logs every request line, query string included, to the "uvicorn.access" logger; a
token or a signed link's signature sent in a URL would sit in the log for anyone who reads
it. A filter on that logger rewrites the values of credential-like parameters before any
handler formats the record.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

ACCESS_LOGGER = "uvicorn.access"
CREDENTIAL_PARAMETERS = frozenset(
    {"token", "access_token", "api_key", "key", "sig", "signature", "password"}
)
REDACTED = "[redacted]"

# One name=value pair of a query string: after "?" or "&", up to the next "&", space or quote.
_PARAMETER = re.compile(r"(?<=[?&])([^=&\s\"?#]+)=([^&\s\"#]*)")


def _redact_pair(match: re.Match[str]) -> str:
    name = match.group(1)
    # Names are compared decoded, so "%74oken" or "Token" hide nothing.
    if unquote_plus(name).strip().lower() in CREDENTIAL_PARAMETERS:
        return f"{name}={REDACTED}"
    return match.group(0)


def redact(text: str) -> str:
    """`text` with the value of every credential-like query parameter in it replaced."""
    return _PARAMETER.sub(_redact_pair, text) if "=" in text else text


class RedactCredentials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # The arguments one by one, keeping their tuple: uvicorn's formatter unpacks it.
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str) and not record.args:
            record.msg = redact(record.msg)
        return True


def install_access_log_redaction() -> None:
    """Once per process, however many apps are created in it."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactCredentials) for f in logger.filters):
        logger.addFilter(RedactCredentials())
