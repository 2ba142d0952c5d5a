"""A user's own provider accounts: their key, their server, their limit, used only by them.

    tts:user:{name}:accounts   hash: account name -> JSON of the account (its API key as a
                               Fernet token, never in the clear)

A block names such an account by its plain name; inside the service it is the qualified name
`{owner}/{account}` (a slash no service provider name or username holds), so its slots, its
cache entries and its provider instance are its own. Keys are encrypted with ACCOUNT_KEYS_KEY
(a Fernet key), or, where that is unset, a key derived from SECRET_KEY; they are decrypted only
on a worker, to make the call, and never returned, logged or put in an error.
"""

from __future__ import annotations

import base64
import json

import redis
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from config import ProviderConfig, Settings
from utils.clock import now_iso
from utils.errors import ConfigurationError
from utils.names import user_accounts_key

SEPARATOR = "/"


def qualified(owner: str, account: str) -> str:
    return f"{owner}{SEPARATOR}{account}"


def split_qualified(name: str) -> tuple[str, str] | None:
    """(owner, account) of a qualified name; None for a service provider's name."""
    owner, sep, account = name.partition(SEPARATOR)
    return (owner, account) if sep else None


def display_name(provider: str) -> str:
    """A provider as its user named it: an own account by its plain name."""
    owned = split_qualified(provider)
    return owned[1] if owned else provider


def cipher_from(settings: Settings) -> Fernet:
    if settings.ACCOUNT_KEYS_KEY:
        return Fernet(settings.ACCOUNT_KEYS_KEY.get_secret_value().encode())
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"tts provider account keys"
    ).derive(settings.SECRET_KEY.get_secret_value().encode())
    return Fernet(base64.urlsafe_b64encode(derived))


class UserAccounts:
    def __init__(self, client: redis.Redis, cipher: Fernet):
        self.redis = client
        self.cipher = cipher

    def save(self, owner: str, name: str, config: ProviderConfig) -> dict:
        """Create or replace the account; its public view (no key)."""
        record = config.model_dump(mode="json", exclude={"api_key"}, exclude_none=True)
        if config.api_key:
            secret = config.api_key.get_secret_value().encode()
            record["api_key_token"] = self.cipher.encrypt(secret).decode()
        record["created_at"] = now_iso()
        self.redis.hset(user_accounts_key(owner), name, json.dumps(record))
        return public_view(name, record)

    def delete(self, owner: str, name: str) -> bool:
        return bool(self.redis.hdel(user_accounts_key(owner), name))

    def list(self, owner: str) -> list[dict]:
        raw = self.redis.hgetall(user_accounts_key(owner))
        return [public_view(name, json.loads(raw[name])) for name in sorted(raw)]

    def exists(self, owner: str, name: str) -> bool:
        return bool(self.redis.hexists(user_accounts_key(owner), name))

    def config(self, owner: str, name: str) -> ProviderConfig | None:
        """The account as a provider configuration, key decrypted; None once deleted."""
        raw = self.redis.hget(user_accounts_key(owner), name)
        if raw is None:
            return None
        record = json.loads(raw)
        token = record.pop("api_key_token", None)
        record.pop("created_at", None)
        if token:
            try:
                record["api_key"] = SecretStr(self.cipher.decrypt(token.encode()).decode())
            except InvalidToken:
                raise ConfigurationError(
                    f"the key of account {name!r} cannot be decrypted: ACCOUNT_KEYS_KEY "
                    "(or SECRET_KEY) changed since it was saved; save the account again"
                ) from None
        return ProviderConfig(**record)


def public_view(name: str, record: dict) -> dict:
    shown = {k: v for k, v in record.items() if k != "api_key_token"}
    return {"name": name, **shown, "has_api_key": "api_key_token" in record}
