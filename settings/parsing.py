"""Settings read from text: the one comma-or-JSON list parser, and checks several share.

Messages name the expected shape only, never the value given: a value may carry a password,
an API key or a secret.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Annotated
from urllib.parse import quote, urlsplit

from pydantic import AfterValidator, BeforeValidator, SecretStr
from pydantic_settings import NoDecode


def comma_or_json_list(value: object) -> object:
    """A list written as text: a JSON list (`["a", "b"]`) or items between commas (`a, b`).

    Items are stripped and empty ones dropped. A value that is neither text nor a list is left
    as it is, for the field's own check to refuse.
    """
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else text.split(",")
    if isinstance(value, list):
        value = [str(item).strip() for item in value if str(item).strip()]
    return value


def _lowercase_list(value: object) -> object:
    value = comma_or_json_list(value)
    return [item.lower() for item in value] if isinstance(value, list) else value


def _empty_is_none(value: object) -> object:
    # An empty line in .env (as .env.example has them) means "not set", not "the empty string".
    return None if value == "" else value


# Host names and the like: comma-separated or a JSON list, compared in lower case. NoDecode:
# pydantic-settings would otherwise read the environment's text as JSON only.
LowercaseList = Annotated[list[str], NoDecode, BeforeValidator(_lowercase_list)]
OptionalText = Annotated[str | None, BeforeValidator(_empty_is_none)]
OptionalSecret = Annotated[SecretStr | None, BeforeValidator(_empty_is_none)]


def url_ok(url: str, schemes: tuple[str, ...], need_host: bool) -> bool:
    """Whether `url` has one of `schemes`, a port that is a number in range, and a host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        return False
    return parts.scheme in schemes and (bool(parts.hostname) or not need_host)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_patterns(value: list[str]) -> list[str]:
    for host in value:
        if "*" in host and host != "*" and not (host.startswith("*.") and "*" not in host[1:]):
            raise ValueError(
                f"{host!r} is not a host name; allowed: a name "
                "(tts.example.com), an address (127.0.0.1, [::1]), *.example.com, or *"
            )
    return value


REDIS_SCHEMES = ("redis", "rediss", "unix")


def _redis_url_shape(value: str | None) -> str | None:
    if value and value.startswith("sentinel://"):  # kombu's syntax: sentinels separated by ;
        ok = all(url_ok(part.strip(), ("sentinel",), need_host=True) for part in value.split(";"))
    else:
        ok = not value or url_ok(value, REDIS_SCHEMES, need_host=not value.startswith("unix"))
    if not ok:
        raise ValueError(
            "must look like redis://[:PASSWORD@]HOST:PORT/DB, rediss://..., unix:///PATH, or "
            "sentinel://HOST:PORT;sentinel://HOST:PORT/DB (with REDIS_SENTINEL_MASTER)"
        )
    return value


# Names the Host header may carry: names, addresses, *.example.com, or *.
HostPatterns = Annotated[LowercaseList, AfterValidator(_host_patterns)]
RedisUrl = Annotated[str | None, AfterValidator(_redis_url_shape)]


def local_redis_url(port: int, password: str | None = None) -> str:
    """The URL of the bundled redis-server on this machine (the run command starts it, every
    process of the machine reaches it), with its password where it has one."""
    auth = f":{quote(password, safe='')}@" if password else ""
    return f"redis://{auth}127.0.0.1:{port}/0"
