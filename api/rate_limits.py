"""Rate limits (slowapi), counted in Redis so they hold across every API process.

POST /tts is limited per user (the token's subject), POST /token per client address, against
password guessing. Over the limit: 429 with Retry-After.

Each app builds its own limiter from its own settings (limits, Redis, on/off), and its routers
are wrapped by that limiter when the app is built, so two apps in one process never share
counts or configuration.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from slowapi import Limiter
from slowapi.errors import RateLimitExceeded
from slowapi.util import get_remote_address

from config import Settings
from utils.redis_keys import RATE_LIMIT_PREFIX
from utils.security import InvalidToken, subject_of


def build_limiter(settings: Settings) -> Limiter:
    return Limiter(
        key_func=get_remote_address,
        storage_uri=settings.redis_url,
        key_prefix=RATE_LIMIT_PREFIX,
        headers_enabled=True,
        enabled=settings.RATE_LIMIT_ENABLED,
    )


def user_or_address(request: Request) -> str:
    """The authenticated user where the token is valid, else the client address."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        try:
            return f"user:{subject_of(token, request.app.state.settings)}"
        except InvalidToken:
            pass
    return f"addr:{get_remote_address(request)}"


def rate_limit_exceeded(request: Request, exc: RateLimitExceeded) -> JSONResponse:
    response = JSONResponse(
        status_code=429, content={"detail": f"rate limit exceeded: {exc.detail}"}
    )
    return request.app.state.limiter._inject_headers(response, request.state.view_rate_limit)
