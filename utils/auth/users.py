"""Users, kept in Redis as `tts:user:{name}` hashes with an argon2 password hash."""

from __future__ import annotations

import re

import redis

from utils.auth.passwords import hash_password, verify_password
from utils.clock import now_iso
from utils.names import user_key

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


class UserStore:
    def __init__(self, client: redis.Redis):
        self.redis = client

    def exists(self, username: str) -> bool:
        return bool(USERNAME_RE.match(username)) and bool(self.redis.exists(user_key(username)))

    def set_password(self, username: str, password: str) -> None:
        """Create the user, or change their password."""
        if not USERNAME_RE.match(username):
            raise ValueError("a username is 1-64 letters, digits or _ . @ -")
        if len(password) < 8:
            raise ValueError("a password has at least 8 characters")
        key = user_key(username)
        self.redis.hsetnx(key, "created_at", now_iso())
        self.redis.hset(key, "password_hash", hash_password(password))

    def authenticate(self, username: str, password: str) -> bool:
        stored = None
        if USERNAME_RE.match(username):
            stored = self.redis.hget(user_key(username), "password_hash")
        return verify_password(password, stored)

    def ensure(self, username: str, password: str) -> None:
        """Make sure the user exists with this password (the admin from the environment)."""
        if not self.authenticate(username, password):
            self.set_password(username, password)
