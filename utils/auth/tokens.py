"""Access tokens: JWT through python-jose, signed with SECRET_KEY.

Claims: `sub` (the username), `uid` (the user's uid, never reused) and `cv` (the user's
credential version when the token was issued), `iat`, `exp`. utils/auth/credentials.py checks
`uid` and `cv` against the user on every request, so a password change or the user's deletion
revokes the token at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from jose import JWTError, jwt

from config import Settings


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    uid: str | None  # None (and cred_version None) in a token issued before uids
    cred_version: int | None


def create_access_token(
    subject: str, settings: Settings, *, uid: str, cred_version: int
) -> AccessToken:
    lifetime = settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60
    now = int(time.time())
    claims = {"sub": subject, "uid": uid, "cv": cred_version, "iat": now, "exp": now + lifetime}
    token = jwt.encode(
        claims, settings.SECRET_KEY.get_secret_value(), algorithm=settings.JWT_ALGORITHM
    )
    return AccessToken(token, lifetime)


class InvalidToken(Exception):
    pass


def subject_of(token: str, settings: Settings) -> str:
    """The token's subject, if it is signed with our key and algorithm and has not expired."""
    return claims_of(token, settings).subject


def claims_of(token: str, settings: Settings) -> TokenClaims:
    """The token's claims, if it is signed with our key and algorithm and has not expired.

    Only the configured algorithm is accepted, so `alg: none` and algorithm-confusion tokens
    fail; `exp` and `sub` are required. Whether the user still holds `uid` at `cv` is the
    caller's to check (utils/auth/credentials.py).
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
    uid, version = claims.get("uid"), claims.get("cv")
    if not isinstance(uid, str) or isinstance(version, bool) or not isinstance(version, int):
        uid = version = None
    return TokenClaims(subject, uid, version)
