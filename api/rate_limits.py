"""Rate limits, counted in Redis so they hold across every API process.

POST /tts is limited per user (the token's subject, or the API key's owner: one count for
both, so a user's keys add no requests to their limit), POST /token per client address, against
password guessing. Over the limit: 429 with Retry-After.

A route takes its limit as a dependency, `rate_limit(SETTING, key)`, naming the setting that
holds it, so the limit is read from the app's own settings. The counting is slowapi's Limiter
(the `limits` library's fixed window over Redis), built once per app in `build_limiter`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from fastapi import Depends, Request
from limits import parse
from slowapi import Limiter
from slowapi.util import get_remote_address

from config import Settings
from utils.auth.api_keys import looks_like_key
from utils.auth.tokens import InvalidToken, subject_of
from utils.errors import RateLimited
from utils.names import RATE_LIMIT_PREFIX
from utils.redis_sentinel import is_sentinel_url, limits_storage_uri


def limits_uri(settings: Settings) -> str:
    """The limits package spells sentinels its own way (redis+sentinel://...)."""
    url = settings.redis_url
    return limits_storage_uri(url, settings.sentinel.master) if is_sentinel_url(url) else url


def build_limiter(settings: Settings) -> Limiter:
    return Limiter(
        key_func=get_remote_address,
        storage_uri=limits_uri(settings),
        key_prefix=RATE_LIMIT_PREFIX,
        enabled=settings.rate_limit.enabled,
    )


def client_address(request: Request) -> str:
    return f"addr:{get_remote_address(request)}"


def user_or_address(request: Request) -> str:
    """The authenticated user where the token or API key is valid, else the client address."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        if looks_like_key(token):
            owner = request.app.state.api_keys.owner_of(token)
            if owner:
                return f"user:{owner}"
        else:
            try:
                return f"user:{subject_of(token, request.app.state.settings)}"
            except InvalidToken:
                pass
    return client_address(request)


def rate_limit(setting: str, key: Callable[[Request], str]):
    """A route dependency counting each request against the limit in the setting named
    `setting` (RATE_LIMIT_SUBMIT, RATE_LIMIT_TOKEN)."""

    def check(request: Request) -> None:
        limiter: Limiter = request.app.state.limiter
        if not limiter.enabled:
            return
        limit = parse(request.app.state.settings.value_of(setting))
        who = (RATE_LIMIT_PREFIX, setting.lower(), key(request))
        if not limiter.limiter.hit(limit, *who):
            reset_at, _ = limiter.limiter.get_window_stats(limit, *who)
            retry_after = max(1, math.ceil(reset_at - time.time()))
            raise RateLimited(f"rate limit exceeded: {limit}", retry_after)

    return Depends(check)
