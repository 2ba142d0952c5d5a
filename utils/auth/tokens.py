"""Access tokens: JWT through python-jose, signed with SECRET_KEY."""

from __future__ import annotations

import time
from dataclasses import dataclass

from jose import JWTError, jwt

from config import Settings


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


def create_access_token(subject: str, settings: Settings) -> AccessToken:
    lifetime = settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60
    now = int(time.time())
    claims = {"sub": subject, "iat": now, "exp": now + lifetime}
    token = jwt.encode(
        claims, settings.SECRET_KEY.get_secret_value(), algorithm=settings.JWT_ALGORITHM
    )
    return AccessToken(token, lifetime)


class InvalidToken(Exception):
    pass


def subject_of(token: str, settings: Settings) -> str:
    """The token's subject, if it is signed with our key and algorithm and has not expired.

    Only the configured algorithm is accepted, so `alg: none` and algorithm-confusion tokens
    fail; `exp` and `sub` are required.
    """
    try:
        claims = jwt.decode(
            token,
            settings.SECRET_KEY.get_secret_value(),
            algorithms=[settings.JWT_ALGORITHM],
            options={"require_exp": True, "require_sub": True},
        )
    except JWTError as exc:
        raise InvalidToken(str(exc)) from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("token has no subject")
    return subject
