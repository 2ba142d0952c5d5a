"""Password hashes: argon2 through passlib (its bcrypt backend breaks with bcrypt >= 4.1)."""

from __future__ import annotations

from passlib.context import CryptContext

_passwords = CryptContext(schemes=["argon2"], deprecated="auto")
# Verified against when a user does not exist, so "no such user" takes as long as "bad password".
_DUMMY_HASH = _passwords.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _passwords.verify(password, _DUMMY_HASH)
        return False
    return _passwords.verify(password, password_hash)
