"""Provider registry: configured names to implementations, imported only when first used.

An SDK that no configured provider needs is never imported, so the offline default path does
not pay for (or require credentials of) cloud SDKs. Instances live once per process: a loaded
neural voice or an SDK client with its connection pool is built once and reused by every task.
"""

from __future__ import annotations

import hashlib
import importlib
import threading

from settings.provider_types import LOCAL_TYPES, PROVIDER_TYPES
from settings.providers import ProviderConfig
from utils.accounts.user_accounts import SEPARATOR, UserAccounts, qualified, split_qualified
from utils.errors import ConfigurationError
from utils.names import LOCAL_BLOCKS_QUEUE, NETWORK_BLOCKS_QUEUE
from workers.providers.base import SynthesisRequest, TTSProvider, Voice

__all__ = ["LOCAL_TYPES", "ProviderRegistry", "SynthesisRequest", "TTSProvider", "Voice"]

# From the one table of provider types (settings/provider_types.py).
IMPLEMENTATIONS = {name: kind.path for name, kind in PROVIDER_TYPES.items()}


class ProviderRegistry:
    """The service's providers (PROVIDERS), and users' own accounts by qualified name
    (`owner/account`, utils/accounts/user_accounts.py) when given where to find them."""

    def __init__(self, configs: dict[str, ProviderConfig], accounts: UserAccounts | None = None):
        self._configs = dict(configs)
        self._accounts = accounts
        # name -> (what it was built from, instance): an account changed or deleted and made
        # again under the same name gets a new instance, never the old key
        self._instances: dict[str, tuple[str, TTSProvider]] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        """The service's own providers (users' accounts are listed per user)."""
        return sorted(self._configs)

    def resolve(self, owner: str, name: str) -> str | None:
        """What a block of `owner` naming `name` runs on: a service provider, or else the
        owner's own account of that name (qualified); None if neither."""
        if name in self._configs:
            return name
        if self._accounts and SEPARATOR not in name and self._accounts.exists(owner, name):
            return qualified(owner, name)
        return None

    def names_for(self, owner: str) -> list[str]:
        """Every name a block of `owner` may give as its provider."""
        own = [a["name"] for a in self._accounts.list(owner)] if self._accounts else []
        return [*self.names(), *own]

    def config(self, name: str) -> ProviderConfig:
        if (owned := split_qualified(name)) is not None:
            config = self._accounts.config(*owned) if self._accounts else None
            if config is None:
                # deleting an account stops its use at once: its blocks fail with this
                raise ConfigurationError(f"provider account {owned[1]!r} no longer exists")
            return config
        try:
            return self._configs[name]
        except KeyError:
            raise ConfigurationError(
                f"unknown provider {name!r}; known providers: {', '.join(self.names())}"
            ) from None

    def runs_locally(self, name: str) -> bool:
        # users' own accounts are cloud accounts, deleted or not (no lookup needed)
        return split_qualified(name) is None and self.config(name).type in LOCAL_TYPES

    def queue_for(self, name: str) -> str:
        """The queue of the pool built for this provider's kind of work."""
        return LOCAL_BLOCKS_QUEUE if self.runs_locally(name) else NETWORK_BLOCKS_QUEUE

    def get(self, name: str) -> TTSProvider:
        config = self.config(name)
        built_from = _fingerprint(config)
        module_name, class_name = IMPLEMENTATIONS[config.type].split(":")
        # Imported before the lock: an SDK's first import takes a second or more, and the
        # other threads of a network-pool process need their own providers meanwhile.
        cls = getattr(importlib.import_module(module_name), class_name)
        with self._lock:
            known = self._instances.get(name)
            if known is None or known[0] != built_from:
                self._instances[name] = (built_from, cls(name, config))
            return self._instances[name][1]


def _fingerprint(config: ProviderConfig) -> str:
    secret = config.api_key.get_secret_value() if config.api_key else ""
    return hashlib.sha256((config.model_dump_json() + secret).encode()).hexdigest()
