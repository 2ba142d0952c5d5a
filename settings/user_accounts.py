"""USER_ACCOUNT_*: where users' own provider accounts may point (their base_url).

An account a user registers sends requests, with their key, wherever its base_url says, from
inside the service's network. Only globally routable addresses are reached unless these say
more (utils/accounts/upstream_access.py applies them at every connection).
"""

from __future__ import annotations

from pydantic import field_validator
from pydantic_settings import BaseSettings

from settings.base import group_config
from settings.parsing import LowercaseList


class UserAccountSettings(BaseSettings):
    """Users' own provider accounts: which addresses they may reach."""

    model_config = group_config("USER_ACCOUNT_")

    allow_private: bool = False
    """Let users' own accounts reach any address, loopback, private and link-local ones (cloud
    metadata) included: only where every user may be trusted with the service's network."""
    allowed_hosts: LowercaseList = []
    """Hosts users' own accounts may reach whatever they resolve to (a speech server on the
    local network), named as base_url writes them: names or addresses, comma-separated or a
    JSON list. Their error answers are shown to the account's owner."""

    @field_validator("allowed_hosts")
    @classmethod
    def _unbracketed(cls, value: list[str]) -> list[str]:
        return [host.strip("[]") for host in value]  # [::1] as a URL writes it: ::1
