"""How a provider reaches its server: the service's own accounts freely, a user's own account
only where the operator's rule allows.

A user's account (utils/accounts/user_accounts.py) sends requests wherever its base_url says,
with the user's key, from inside the service's network, in the workers and in the API (voices
are listed at submit). The rule webhooks follow applies to every such connection:

- only globally routable addresses, unless USER_ACCOUNT_ALLOW_PRIVATE, or the host is named in
  USER_ACCOUNT_ALLOWED_HOSTS (settings/user_accounts.py), checked at connect time against the
  address connected to (utils/net/guarded_transport.py): a name that resolves elsewhere later
  gains nothing;
- no redirects followed, no proxy from the environment;
- checked first where a person can act on it: at registration (a 422 naming base_url) and at
  submit (a 422 naming the block's provider, saying base_url);
- the server's error text shown to the account's owner only where the operator allows its host
  (or the account uses the vendor's own API: no base_url); otherwise the status code alone, so
  that an internal server's answers are never readable through a block's error.

The service's own accounts (PROVIDERS) are configured by the operator and stay unrestricted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from config import ProviderConfig, get_settings
from settings.user_accounts import UserAccountSettings
from utils.accounts.user_accounts import display_name, split_qualified
from utils.errors import ConfigurationError, ProviderError, ProviderRejected, ProviderRetryable
from utils.net import addresses
from utils.net.addresses import AddressPolicy
from utils.net.guarded_transport import guarded_client, refusal_behind

NOT_SHOWN = "the answer is not shown: base_url's host is not one the operator allows"
WHY = (
    "which users' own accounts may not reach "
    "(USER_ACCOUNT_ALLOW_PRIVATE or USER_ACCOUNT_ALLOWED_HOSTS allows it)"
)


def user_account_settings() -> UserAccountSettings:
    return get_settings().user_account


def account_policy() -> AddressPolicy:
    """The operator's rule for users' own accounts."""
    settings = user_account_settings()
    return AddressPolicy(settings.allow_private, tuple(settings.allowed_hosts))


def base_url_problem(
    base_url: str | None, policy: AddressPolicy, unresolvable: bool = True
) -> str | None:
    """Why a user's account may not use `base_url`, or None (None too for no base_url: the
    vendor's own API). `unresolvable`: whether a host that does not resolve is a problem."""
    if base_url is None:
        return None
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "is not a valid URL (its port)"
    if policy.exempt(host):
        return None
    found = addresses.resolve(host, port)
    if not found:
        return f"its host {host} does not resolve to an address" if unresolvable else None
    reason = addresses.refusal(host, found, policy)
    return f"{reason}, {WHY}" if reason else None


class SubmitChecks:
    """The user accounts a request names, each checked once (a job of a thousand blocks on one
    account resolves its host once)."""

    def __init__(self, providers):
        self.providers = providers
        self.policy = account_policy()
        self.problems: dict[str, str | None] = {}

    def problem(self, name: str) -> str | None:
        """For a user's account (a qualified name): why its base_url may not be used now."""
        if split_qualified(name) is None:
            return None
        if name not in self.problems:
            try:
                base_url = self.providers.config(name).base_url
            except ConfigurationError:
                base_url = None  # deleted meanwhile: its blocks fail saying so
            # a host that does not resolve just now is the worker's to retry, not a refusal
            problem = base_url_problem(base_url, self.policy, unresolvable=False)
            self.problems[name] = problem and (
                f"account {display_name(name)!r} cannot be used: its base_url: {problem}"
            )
        return self.problems[name]


@dataclass(frozen=True)
class UpstreamAccess:
    """What one provider instance may do with its server (TTSProvider.upstream)."""

    guarded: bool = False
    policy: AddressPolicy = field(default_factory=AddressPolicy)
    shows_text: bool = True

    @classmethod
    def of(cls, name: str, config: ProviderConfig) -> UpstreamAccess:
        if split_qualified(name) is None:
            return cls()  # the service's own account
        policy = account_policy()
        host = urlsplit(config.base_url).hostname if config.base_url else None
        return cls(True, policy, host is None or policy.exempt(host))

    def http_client(self, timeout: float, base_url: str = "") -> httpx.Client | None:
        """The client a user's account is reached with; None: the SDK's own (the service's
        accounts). Built once per provider instance, so once per account per process."""
        if not self.guarded:
            return None
        return guarded_client(self.policy, timeout, base_url)

    def screened(self, error: ProviderError) -> ProviderError:
        """An error made from the server's answer, its text kept only where it may be shown."""
        if self.shows_text:
            return error
        if isinstance(error, ProviderRetryable):
            return ProviderRetryable(
                error.provider, NOT_SHOWN, error.status_code, error.retry_after_s
            )
        return ProviderRejected(error.provider, NOT_SHOWN, error.status_code)

    @staticmethod
    def refused(provider: str, exc: BaseException) -> ProviderRejected | None:
        """The refusal behind a failed connection, as the block's error (no retry can help)."""
        refusal = refusal_behind(exc)
        if refusal is None:
            return None
        return ProviderRejected(provider, f"base_url: {refusal.reason}, {WHY}")
