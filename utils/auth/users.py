"""Users, kept in Redis as `tts:user:{name}` hashes: an argon2 password hash, and what binds
credentials to this one user:

    uid           random, made when the user is created and never reused: a user deleted and
                  created again under the same name is another uid, so the old user's tokens
                  and API keys (which carry the uid) are refused
    cred_version  a counter, 1 at creation and one more at every password change; a token
                  carries the version it was issued under and is refused once it differs

A user stored before uids existed gets one the first time it is read (`identity`), and its
API keys are bound to it then (utils/auth/api_keys.py bind_legacy_keys), so they keep working.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import redis

from utils.auth.api_keys import bind_legacy_keys
from utils.auth.passwords import hash_password, verify_password
from utils.clock import now_iso
from utils.names import user_key

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")

# KEYS: user. ARGV: password hash, a new uid, now. Creates the user (version 1), or changes
# the password and counts the change; one script, so a creation and a change cannot interleave.
_SET_PASSWORD = """
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('HSET', KEYS[1], 'created_at', ARGV[3], 'uid', ARGV[2], 'cred_version', 1,
               'password_hash', ARGV[1])
    return 1
end
redis.call('HSET', KEYS[1], 'password_hash', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'cred_version', 1)
return 0
"""
# KEYS: user. ARGV: a new uid. A user stored before uids gets one (and version 1); a user
# that is gone is not made again. 1 if this call gave it.
_ADOPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'cred_version', 1)
return redis.call('HSETNX', KEYS[1], 'uid', ARGV[1])
"""


@dataclass(frozen=True)
class Identity:
    """Who a credential must name to be accepted: the user's uid and credential version."""

    username: str
    uid: str
    cred_version: int


def new_uid() -> str:
    return secrets.token_hex(16)


class UserStore:
    def __init__(self, client: redis.Redis):
        self.redis = client
        self._set_password = client.register_script(_SET_PASSWORD)
        self._adopt = client.register_script(_ADOPT)

    def exists(self, username: str) -> bool:
        return bool(USERNAME_RE.match(username)) and bool(self.redis.exists(user_key(username)))

    def set_password(self, username: str, password: str) -> None:
        """Create the user, or change their password: every token issued before is refused
        from now on (API keys are not: they are credentials of their own)."""
        if not USERNAME_RE.match(username):
            raise ValueError("a username is 1-64 letters, digits or _ . @ -")
        if len(password) < 8:
            raise ValueError("a password has at least 8 characters")
        self.identity(username)  # a user stored before uids: its keys bound before the change
        self._set_password(
            keys=[user_key(username)], args=[hash_password(password), new_uid(), now_iso()]
        )

    def identity(self, username: str) -> Identity | None:
        """The user's uid and credential version; None if there is no such user. One read,
        but for a user stored before uids, which gets its uid here."""
        if not USERNAME_RE.match(username):
            return None
        key = user_key(username)
        uid, version = self.redis.hmget(key, "uid", "cred_version")
        if uid is None:
            uid = new_uid()
            if self._adopt(keys=[key], args=[uid]):
                bind_legacy_keys(self.redis, username, uid)
            uid, version = self.redis.hmget(key, "uid", "cred_version")
            if uid is None:
                return None
        return Identity(username, uid, int(version or 1))

    def login(self, username: str, password: str) -> Identity | None:
        """The user's identity if the password is theirs, else None (in the same time for an
        unknown user as for a wrong password)."""
        stored = uid = version = None
        if USERNAME_RE.match(username):
            stored, uid, version = self.redis.hmget(
                user_key(username), "password_hash", "uid", "cred_version"
            )
        if not verify_password(password, stored):
            return None
        # The version read with the hash: a change while the hash was checked (tens of ms)
        # makes this token stale, never the old password's token current.
        if uid is None:
            return self.identity(username)
        return Identity(username, uid, int(version or 1))

    def authenticate(self, username: str, password: str) -> bool:
        return self.login(username, password) is not None

    def ensure(self, username: str, password: str) -> None:
        """Make sure the user exists with this password (the admin from the environment): a
        changed ADMIN_PASSWORD is a password change, an unchanged one changes nothing."""
        if not self.authenticate(username, password):
            self.set_password(username, password)

    def delete(self, username: str) -> bool:
        """Delete the user's own hash (utils/auth/user_deletion.py deletes everything else)."""
        return USERNAME_RE.match(username) is not None and bool(
            self.redis.delete(user_key(username))
        )
