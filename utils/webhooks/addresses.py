"""Which callback URLs the service will call.

A webhook makes the service send a request wherever its user says, from inside the network it
runs in: without a check, `http://169.254.169.254/` (cloud metadata) or `http://10.0.0.5:6379/`
would be one job away. So a URL's host is resolved and every address it resolves to must be
globally routable, unless configuration allows more (WEBHOOK_ALLOW_PRIVATE, or the host listed
in WEBHOOK_ALLOWED_HOSTS). The check runs at submit (a 422 naming callback_url) and again at
each delivery, whose connection goes to the address checked then (utils/webhooks/sender.py),
so a name that resolves elsewhere later (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from utils.errors import CallbackRefused

MAX_URL_CHARS = 2048
SCHEMES = ("http", "https")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    allowed_hosts: tuple[str, ...] = ()  # lower case, IPv6 without brackets

    @classmethod
    def from_settings(cls, settings) -> AddressPolicy:
        return cls(settings.webhook.allow_private, tuple(settings.webhook.allowed_hosts))

    def exempt(self, host: str) -> bool:
        return self.allow_private or host.lower() in self.allowed_hosts


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
    addresses = resolve(host, port)
    if not policy.exempt(host):
        for address in addresses:
            kind = non_global_kind(address)
            if kind:
                named = "is" if _is_literal(host) else f"resolves to {address},"
                article = "an" if kind[0] in "aeiou" else "a"
                raise CallbackRefused(
                    f"{host} {named} {article} {kind} address, which webhooks may not call "
                    "(WEBHOOK_ALLOW_PRIVATE or WEBHOOK_ALLOWED_HOSTS allows it)"
                )
    return Target(scheme, host, port, path, addresses[0])


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


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address of `host` (one, for an address literal), in the resolver's order."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise CallbackRefused(f"its host {host} does not resolve to an address") from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])  # without an IPv6 zone
        if address not in found:
            found.append(address)
    if not found:
        raise CallbackRefused(f"its host {host} does not resolve to an address")
    return found


def non_global_kind(address: IPAddress) -> str | None:
    """What kind of address this is when it is not one to call from a service (None: global).

    Addresses that embed an IPv4 one (IPv4-mapped, 6to4, Teredo) are judged by it as well."""
    if address.version == 6:
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None,))[-1]
        if embedded is not None:
            kind = non_global_kind(embedded)
            if kind:
                return f"{kind} (IPv4 {embedded} inside)"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("shared (CGNAT)", address in ipaddress.ip_network("100.64.0.0/10")),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("non-global", not address.is_global),
    )
    return next((kind for kind, hit in checks if hit), None)
