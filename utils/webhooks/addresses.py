"""Which callback URLs the service will call.

A webhook makes the service send a request wherever its user says, from inside the network it
runs in: without a check, `http://169.254.169.254/` (cloud metadata) or `http://10.0.0.5:6379/`
would be one job away. So a URL's host is resolved and every address it resolves to must be
globally routable, unless configuration allows more (WEBHOOK_ALLOW_PRIVATE, or the host listed
in WEBHOOK_ALLOWED_HOSTS). The check runs at submit (a 422 naming callback_url) and again at
each delivery, whose connection goes to the address checked then (utils/webhooks/sender.py),
so a name that resolves elsewhere later (DNS rebinding) gains nothing. The rule itself is
shared with users' own provider accounts (utils/net/addresses.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from utils.errors import CallbackRefused
from utils.net import addresses
from utils.net.addresses import IPAddress, non_global_kind

__all__ = ["AddressPolicy", "Target", "check_callback_url", "non_global_kind", "resolve"]

MAX_URL_CHARS = 2048
SCHEMES = ("http", "https")


@dataclass(frozen=True)
class AddressPolicy(addresses.AddressPolicy):
    """The policy of utils/net/addresses.py, read from the WEBHOOK_ settings."""

    @classmethod
    def from_settings(cls, settings) -> AddressPolicy:
        return cls(settings.webhook.allow_private, tuple(settings.webhook.allowed_hosts))


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`), and what to name (`host`, for the Host
    header and TLS)."""

    scheme: str
    host: str
    port: int
    path: str  # with its query
    address: IPAddress

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def connect_url(self) -> str:
        """The URL with the checked address in place of the name: httpx connects there."""
        address = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.scheme}://{address}:{self.port}{self.path}"


def check_callback_url(url: str, policy: AddressPolicy) -> Target:
    """The URL resolved and checked, or CallbackRefused saying why."""
    host, port, scheme, path = _parse(url)
    found = resolve(host, port)
    if reason := addresses.refusal(host, found, policy):
        raise CallbackRefused(
            f"{reason}, which webhooks may not call "
            "(WEBHOOK_ALLOW_PRIVATE or WEBHOOK_ALLOWED_HOSTS allows it)"
        )
    return Target(scheme, host, port, path, found[0])


def _parse(url: str) -> tuple[str, int, str, str]:
    if len(url) > MAX_URL_CHARS:
        raise CallbackRefused(f"must be at most {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise CallbackRefused("is not a valid URL (its port or brackets)") from None
    if parts.scheme.lower() not in SCHEMES:
        raise CallbackRefused("must be an http:// or https:// URL")
    if not parts.hostname:
        raise CallbackRefused("must name a host")
    if parts.username is not None or parts.password is not None:
        # status shows the URL, and logs may: credentials belong in the receiver's own checks
        # (the signature says the request is ours)
        raise CallbackRefused("must not carry a user name or password")
    scheme = parts.scheme.lower()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname.lower(), port or (443 if scheme == "https" else 80), scheme, path


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address of `host` (one, for an address literal), in the resolver's order."""
    found = addresses.resolve(host, port)
    if not found:
        raise CallbackRefused(f"its host {host} does not resolve to an address")
    return found
