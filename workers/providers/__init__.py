"""Provider registry: configured names to implementations, imported only when first used.

An SDK that no configured provider needs is never imported, so the offline default path does
not pay for (or require credentials of) cloud SDKs. Instances live once per process: a loaded
neural voice or an SDK client with its connection pool is built once and reused by every task.
"""

from __future__ import annotations

import importlib
import threading
from functools import lru_cache

from config import ProviderConfig, get_settings
from utils.errors import ConfigurationError
from workers.providers.base import SynthesisRequest, TTSProvider, Voice

__all__ = ["ProviderRegistry", "SynthesisRequest", "TTSProvider", "Voice", "get_registry"]

IMPLEMENTATIONS = {
    "piper": "workers.providers.piper:PiperProvider",
    "elevenlabs": "workers.providers.elevenlabs:ElevenLabsProvider",
    "openai": "workers.providers.openai:OpenAIProvider",
    "volcengine": "workers.providers.volcengine:VolcengineProvider",
}


class ProviderRegistry:
    def __init__(self, configs: dict[str, ProviderConfig]):
        self._configs = dict(configs)
        self._instances: dict[str, TTSProvider] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return sorted(self._configs)

    def config(self, name: str) -> ProviderConfig:
        try:
            return self._configs[name]
        except KeyError:
            raise ConfigurationError(
                f"unknown provider {name!r}; known providers: {', '.join(self.names())}"
            ) from None

    def get(self, name: str) -> TTSProvider:
        config = self.config(name)
        with self._lock:
            if name not in self._instances:
                module_name, class_name = IMPLEMENTATIONS[config.type].split(":")
                cls = getattr(importlib.import_module(module_name), class_name)
                self._instances[name] = cls(name, config)
            return self._instances[name]


@lru_cache
def get_registry() -> ProviderRegistry:
    return ProviderRegistry(get_settings().PROVIDERS)
