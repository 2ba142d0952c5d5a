"""Which addresses the service may reach on a user's say-so.

A URL a user gives (a webhook's callback_url, the base_url of their own provider account) makes
the service send a request from inside the network it runs in: without a check,
`http://169.254.169.254/` (cloud metadata) or `http://10.0.0.5:6379/` would be one request
away. So a host is resolved and every address it resolves to must be globally routable, unless
the operator's policy exempts it (allow_private, or the host named on an allow-list as the URL
writes it: a name, or an address literal).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SHARED_CGNAT = ipaddress.ip_network("100.64.0.0/10")


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    allowed_hosts: tuple[str, ...] = ()  # lower case, IPv6 without brackets

    def exempt(self, host: str) -> bool:
        return self.allow_private or host.lower().strip("[]") in self.allowed_hosts


def is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address of `host` (one, for an address literal), in the resolver's order; empty
    when it does not resolve."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])  # without an IPv6 zone
        if address not in found:
            found.append(address)
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
        ("shared (CGNAT)", address in _SHARED_CGNAT),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("non-global", not address.is_global),
    )
    return next((kind for kind, hit in checks if hit), None)


def refusal(host: str, addresses: list[IPAddress], policy: AddressPolicy) -> str | None:
    """Why `host` may not be reached at these addresses ("localhost resolves to 127.0.0.1, a
    loopback address"), or None when it may: every address global, or the host exempt."""
    if policy.exempt(host):
        return None
    for address in addresses:
        kind = non_global_kind(address)
        if kind:
            named = "is" if is_literal(host) else f"resolves to {address},"
            article = "an" if kind[0] in "aeiou" else "a"
            return f"{host} {named} {article} {kind} address"
    return None
