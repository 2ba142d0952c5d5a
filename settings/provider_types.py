"""Every provider type the service knows, in one table, and how an account of one is named.

ProviderConfig.type (settings/providers.py), the API's account schema, the worker registry
(workers/providers/__init__.py: IMPLEMENTATIONS) and LOCAL_TYPES all take their lists from
here, so a new type is one row. This module imports nothing of the project.
"""

from __future__ import annotations

from typing import Literal, NamedTuple


class ProviderKind(NamedTuple):
    path: str
    """`module:Class` of the implementation, imported only when a provider of it is used."""
    local: bool
    """Synthesizes on this machine's CPU (the local pool); else waits on a network (the
    network pool)."""


PROVIDER_TYPES: dict[str, ProviderKind] = {
    "piper": ProviderKind("workers.providers.piper:PiperProvider", local=True),
    "kokoro": ProviderKind("workers.providers.kokoro:KokoroProvider", local=True),
    "elevenlabs": ProviderKind("workers.providers.elevenlabs:ElevenLabsProvider", local=False),
    "openai": ProviderKind("workers.providers.openai:OpenAIProvider", local=False),
    "volcengine": ProviderKind("workers.providers.volcengine:VolcengineProvider", local=False),
}

# Built from the table (a Literal of a tuple is the Literal of its items).
ProviderType = Literal[tuple(PROVIDER_TYPES)]  # any type: an entry of PROVIDERS
# The types a user's own account may have: cloud ones (an account runs on the network pool).
AccountType = Literal[tuple(name for name, kind in PROVIDER_TYPES.items() if not kind.local)]

# Types that synthesize on this machine (the local pool; LOCAL_DEVICE applies to them).
LOCAL_TYPES = frozenset(name for name, kind in PROVIDER_TYPES.items() if kind.local)

# A user's own provider account's name, as their blocks give it as provider.
ACCOUNT_NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
