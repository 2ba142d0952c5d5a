"""Each user's webhook signing secret: `whsec_` and 32 random bytes in base64, the Standard
Webhooks form, made on first use and replaced on request.

    tts:user:{name}:webhook_secret   string: the secret as a Fernet token, never in the clear

Encrypted with the cipher of users' provider keys (utils/accounts/user_accounts.py
cipher_from: ACCOUNT_KEYS_KEY, or a key derived from SECRET_KEY). The secret is shown only to
its owner (GET /webhooks/secret) and decrypted on a worker to sign; never logged.
"""

from __future__ import annotations

import base64
import secrets

import redis
from cryptography.fernet import Fernet, InvalidToken

from utils.errors import ConfigurationError
from utils.names import webhook_secret_key

PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


class WebhookSecrets:
    def __init__(self, client: redis.Redis, cipher: Fernet):
        self.redis = client
        self.cipher = cipher

    def get(self, owner: str) -> str:
        """The owner's secret, made now if they have none (two first uses at once agree)."""
        key = webhook_secret_key(owner)
        token = self.redis.get(key)
        if token is None:
            self.redis.set(key, self._encrypt(new_secret()), nx=True)
            token = self.redis.get(key)
        return self._decrypt(token)

    def rotate(self, owner: str) -> str:
        """A new secret in place of the old, which signs nothing from now on."""
        secret = new_secret()
        self.redis.set(webhook_secret_key(owner), self._encrypt(secret))
        return secret

    def _encrypt(self, secret: str) -> str:
        return self.cipher.encrypt(secret.encode()).decode()

    def _decrypt(self, token: str) -> str:
        try:
            return self.cipher.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigurationError(
                "the webhook secret cannot be decrypted: ACCOUNT_KEYS_KEY (or SECRET_KEY) "
                "changed since it was made; rotate it (POST /webhooks/secret/rotate)"
            ) from None
