"""REDIS_URL naming sentinels rather than one Redis, in kombu's syntax (which the broker reads
as it is):

    sentinel://[:PASSWORD@]HOST:PORT[;sentinel://HOST:PORT ...][/DB]

with the primary's name in REDIS_SENTINEL_MASTER. The password (of the first address) is the
primary's; the sentinels' own is REDIS_SENTINEL_PASSWORD. Every Redis client of the service is
then one redis-py builds from `redis.sentinel.Sentinel.master_for`: it asks the sentinels where
the primary is on each new connection, and drops a connection to a primary demoted to replica
(READONLY), so after a failover the next attempt reaches the new primary.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

SCHEME = "sentinel"


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: list[tuple[str, int]]
    db: int
    password: str | None
    username: str | None


def is_sentinel_url(url: str) -> bool:
    return url.startswith(f"{SCHEME}://")


def parse_sentinel_url(url: str) -> SentinelTarget:
    """The sentinels' addresses, the database and the primary's credentials of `url`."""
    sentinels, db, password, username = [], 0, None, None
    for part in url.split(";"):
        parts = urlsplit(part.strip())
        if parts.scheme != SCHEME or not parts.hostname:
            raise ValueError("must look like sentinel://HOST:PORT;sentinel://HOST:PORT/DB")
        sentinels.append((parts.hostname, parts.port or 26379))
        if parts.password and password is None:
            password, username = unquote(parts.password), unquote(parts.username or "") or None
        if parts.path.strip("/").isdigit():
            db = int(parts.path.strip("/"))
    return SentinelTarget(sentinels, db, password, username)


def limits_storage_uri(url: str, master: str) -> str:
    """The rate limiter's (the `limits` package's) spelling of the same sentinels."""
    target = parse_sentinel_url(url)
    auth = f":{target.password}@" if target.password else ""
    hosts = ",".join(f"{host}:{port}" for host, port in target.sentinels)
    return f"redis+sentinel://{auth}{hosts}/{master}"
