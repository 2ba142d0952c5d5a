"""Long-lived API keys: `tts_sk_` and 43 characters of randomness, for scripts and SDKs that
take an `api_key` (the openai SDK sends it as `Authorization: Bearer <key>`).

A key is shown once, when it is made; Redis keeps only its SHA-256:

    tts:apikey:{sha256}        hash: owner, uid, id, name, prefix, created_at, last_used_at
    tts:user:{name}:apikeys    hash: key id -> sha256, to list and revoke a user's keys

Why SHA-256 and not argon2 as for passwords: a password has little entropy, so its hash must
be slow to make guessing dear; a key of 256 random bits cannot be guessed however cheap its
hash, and it is checked on every request, where argon2 (tens of ms, by design) would be the
slowest step. A plain digest also finds the record directly, with no comparison to time.
No pepper from SECRET_KEY: it adds nothing to 256 random bits, and rotating SECRET_KEY would
then revoke every key without a word.

A key records the uid of its user (utils/auth/users.py) and is accepted only while the user of
that name has that uid: a user deleted and created again does not get the old keys back. A
password change leaves keys working: they are credentials of their own, revoked one by one.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import redis

from utils.clock import epoch_of, iso_of, now_iso
from utils.errors import LimitReached
from utils.names import api_key_key, user_api_keys_key

KEY_PREFIX = "tts_sk_"  # a token that starts so is a key; anything else is a JWT
KEY_BYTES = 32
SHOWN_CHARS = 4  # of the random part, in listings: enough to tell keys apart, 24 bits
MAX_KEYS_PER_USER = 20
MAX_NAME_CHARS = 64
# last_used_at is written at most this often per key, not on every request it serves.
TOUCH_INTERVAL_S = 60

# Only a key that still exists is touched: a revocation between reading the key and touching
# it must not leave a stray hash behind.
_TOUCH = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('HSET', KEYS[1], 'last_used_at', ARGV[1])
end
"""

# KEYS: one key's hash. ARGV: owner, uid. A key made before uids is bound to its owner's uid.
_BIND = """
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HEXISTS', KEYS[1], 'uid') == 0
then redis.call('HSET', KEYS[1], 'uid', ARGV[2]) end
"""

PUBLIC_FIELDS = ("id", "name", "prefix", "created_at", "last_used_at")


@dataclass(frozen=True)
class NewKey:
    """A key as made: the only time `key` exists outside its holder's hands."""

    id: str
    name: str | None
    key: str
    prefix: str
    created_at: str


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


@dataclass(frozen=True)
class KeyHolder:
    """Whom a live key was made for: the username, and that user's uid then (None: a key
    made before uids and never bound, which is refused)."""

    owner: str
    uid: str | None


def bind_legacy_keys(client: redis.Redis, owner: str, uid: str) -> None:
    """Bind the owner's keys made before uids to `uid`, the uid the owner was just given."""
    bind = client.register_script(_BIND)
    for digest in client.hvals(user_api_keys_key(owner)):
        bind(keys=[api_key_key(digest)], args=[owner, uid])


class ApiKeys:
    def __init__(
        self,
        client: redis.Redis,
        max_per_user: int = MAX_KEYS_PER_USER,
        touch_interval_s: float = TOUCH_INTERVAL_S,
    ):
        self.redis = client
        self.max_per_user = max_per_user
        self.touch_interval_s = touch_interval_s
        self._touch = client.register_script(_TOUCH)

    def create(self, owner: str, name: str | None = None, uid: str | None = None) -> NewKey:
        """A new key of `owner`, bound to `uid` (their uid now; None only in tests of keys
        alone, whose key then works for no request)."""
        if name is not None and (len(name) > MAX_NAME_CHARS or not name.isprintable()):
            raise ValueError(f"a key's name is at most {MAX_NAME_CHARS} printable characters")
        key = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
        digest = digest_of(key)
        new = NewKey(
            id=secrets.token_hex(8),
            name=name,
            key=key,
            prefix=f"{key[: len(KEY_PREFIX) + SHOWN_CHARS]}…",
            created_at=now_iso(),
        )
        record = {"owner": owner, "id": new.id, "prefix": new.prefix, "created_at": new.created_at}
        if uid is not None:
            record["uid"] = uid
        if name is not None:
            record["name"] = name
        index = user_api_keys_key(owner)

        def add(pipe: redis.client.Pipeline) -> None:
            # Counted under WATCH: two creations at once cannot both take the last place.
            if pipe.hlen(index) >= self.max_per_user:
                raise LimitReached(
                    f"you have {self.max_per_user} API keys, the most allowed; revoke one "
                    "(DELETE /keys/{id}) before making another"
                )
            pipe.multi()
            pipe.hset(api_key_key(digest), mapping=record)
            pipe.hset(index, new.id, digest)

        self.redis.transaction(add, index)
        return new

    def list(self, owner: str) -> list[dict]:
        """The owner's keys, oldest first: never the key, never its hash."""
        digests = self.redis.hgetall(user_api_keys_key(owner))
        pipe = self.redis.pipeline(transaction=False)
        for digest in digests.values():
            pipe.hgetall(api_key_key(digest))
        records = [r for r in pipe.execute() if r.get("owner") == owner]
        records.sort(key=lambda r: (r["created_at"], r["id"]))
        return [{field: r.get(field) for field in PUBLIC_FIELDS} for r in records]

    def revoke(self, owner: str, key_id: str) -> bool:
        """Delete the key at once; False if the owner has no key of that id."""
        index = user_api_keys_key(owner)
        digest = self.redis.hget(index, key_id)
        if digest is None:
            return False
        pipe = self.redis.pipeline()
        pipe.delete(api_key_key(digest))
        pipe.hdel(index, key_id)
        pipe.execute()
        return True

    def owner_of(self, key: str) -> str | None:
        """Whose key this is; None for anything that is not a live key."""
        holder = self.holder_of(key)
        return holder.owner if holder else None

    def holder_of(self, key: str) -> KeyHolder | None:
        """Whose key this is, and their uid; None for anything that is not a live key.

        One read per request, so a revoked key fails on the very next one.
        """
        if not looks_like_key(key):
            return None
        record = api_key_key(digest_of(key))
        owner, uid, last_used = self.redis.hmget(record, "owner", "uid", "last_used_at")
        if not owner:
            return None
        now = time.time()
        if last_used is None or now - epoch_of(last_used) >= self.touch_interval_s:
            self._touch(keys=[record], args=[iso_of(now)])
        return KeyHolder(owner, uid)

    def delete_all(self, owner: str) -> int:
        """Delete every key of the owner (the user is being deleted); how many there were."""
        index = user_api_keys_key(owner)

        def delete(pipe: redis.client.Pipeline) -> int:
            digests = pipe.hvals(index)  # under WATCH: a key made meanwhile is not left behind
            pipe.multi()
            pipe.delete(index, *(api_key_key(digest) for digest in digests))
            return len(digests)

        return self.redis.transaction(delete, index, value_from_callable=True)
