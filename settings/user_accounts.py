"""Where users' own provider accounts may point (their base_url): the USER_ACCOUNT_ settings.

An account a user registers sends requests, with their key, wherever its base_url says, from
inside the service's network. Only globally routable addresses are reached unless these say
more (utils/accounts/upstream_access.py applies them at every connection).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_ENV_FILE = Path(__file__).resolve().parent.parent / ".env"


class UserAccountSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="USER_ACCOUNT_",
        env_file=_ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        use_attribute_docstrings=True,
    )

    allow_private: bool = False
    """Let users' own accounts reach any address, loopback, private and link-local ones (cloud
    metadata) included: only where every user may be trusted with the service's network."""

    allowed_hosts: Annotated[list[str], NoDecode] = []
    """Hosts users' own accounts may reach whatever they resolve to (a speech server on the
    local network), named as base_url writes them: names or addresses, comma-separated or a
    JSON list. Their error answers are shown to the account's owner."""

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            value = [str(h).strip().lower().strip("[]") for h in value if str(h).strip()]
        return value
