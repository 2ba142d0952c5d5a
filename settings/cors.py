"""CORS_*: which browser pages on other origins may call the API and open its WebSockets
(api/cors.py).

Unset, none may: a page served elsewhere cannot read any answer, as before. Entries of
CORS_ALLOW_ORIGINS are exact origins as a browser sends them (scheme, host, port; no path), or
`*` for any; CORS_ALLOW_ORIGIN_REGEX adds a pattern an origin must match whole. Credentials
(cookies, HTTP authentication; an API key in the Authorization header is not one) are allowed
only with exact origins: with `*` or a pattern, any site would act with a visitor's cookies, so
such a configuration is refused at start.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_settings import BaseSettings

from settings.base import group_config
from settings.parsing import LowercaseList, OptionalText

ORIGIN_SHAPE = "an origin such as https://app.example.com or http://localhost:5173, or *"


def _origin(value: str) -> str:
    """An origin as a browser writes it in its Origin header: no trailing slash, no path."""
    origin = value.rstrip("/")
    if origin == "*":
        return origin
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ValueError(f"each entry must be {ORIGIN_SHAPE} (scheme, host and port; no path)")
    return origin


def _origins(value: list[str]) -> list[str]:
    return [_origin(item) for item in value]


# Compared as browsers send them: lower case (LowercaseList), one entry per origin.
OriginList = Annotated[LowercaseList, AfterValidator(_origins)]


class CorsSettings(BaseSettings):
    """Browser pages on other origins: CORS for every route, and the Origin check of the
    WebSockets. Unset: same-origin only."""

    model_config = group_config("CORS_")

    allow_origins: OriginList = []
    """Origins whose pages may call the API: exact origins (https://app.example.com), or * for
    any (comma-separated or a JSON list). Empty: none but the service's own."""
    allow_origin_regex: OptionalText = None
    """A pattern (Python regular expression) an origin may match instead, whole:
    https://[a-z0-9-]+\\.example\\.com. Empty: none."""
    allow_credentials: bool = False
    """Let pages send cookies and HTTP authentication along (an API key or token in the
    Authorization header needs no such leave). Only with exact origins."""
    allow_headers: LowercaseList = []
    """Request headers allowed beside those the API reads (Authorization, Content-Type,
    Range, X-Request-ID, xi-api-key): names, comma-separated, or * for any."""
    max_age: int = Field(default=600, ge=0, le=86400)
    """Seconds a browser may reuse a pre-flight answer."""

    @field_validator("allow_origin_regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"is not a regular expression ({exc})") from None
        return value

    @model_validator(mode="after")
    def _credentials_only_with_exact_origins(self) -> CorsSettings:
        if self.allow_credentials and ("*" in self.allow_origins or self.allow_origin_regex):
            raise ValueError(
                "CORS_ALLOW_CREDENTIALS=true needs exact origins in CORS_ALLOW_ORIGINS: not * "
                "and no CORS_ALLOW_ORIGIN_REGEX (any site matching them would act with a "
                "visitor's cookies)"
            )
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.allow_origins or self.allow_origin_regex)
