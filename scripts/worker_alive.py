"""Whether this machine's worker processes beat: exit 0 if they do, 1 if not (with the reason).

    python -m scripts.worker_alive [local|network|any]

For a Kubernetes exec probe or a Docker HEALTHCHECK of a worker container. A process that
beats has written its heartbeat within HEARTBEAT_TTL_S (utils/jobs/liveness.py): a hung
machine, a stopped pool or a lost Redis all fail it. `local`: the local (CPU) pool's
processes; `network`: the network pool's; `any` (default): either.
"""

from __future__ import annotations

import argparse
import socket
import sys

import redis

from config import get_settings
from utils.jobs.liveness import live_workers
from utils.redis_client import connect_fast

TIMEOUT_S = 3.0


def alive(client: redis.Redis, pool: str, host: str) -> list[str]:
    pools = {"local": (True,), "network": (False,), "any": (True, False)}[pool]
    return [w for local in pools for w in live_workers(client, local, host=host)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.worker_alive")
    parser.add_argument("pool", nargs="?", default="any", choices=["local", "network", "any"])
    args = parser.parse_args(argv)
    settings = get_settings()
    host = socket.gethostname()
    client = connect_fast(settings.redis_url, TIMEOUT_S, settings.sentinel)
    try:
        workers = alive(client, args.pool, host)
    except redis.RedisError as exc:
        print(f"worker_alive: Redis does not answer ({type(exc).__name__})", file=sys.stderr)
        return 1
    finally:
        client.close()
    pool = "" if args.pool == "any" else f"{args.pool}-pool "
    if not workers:
        print(f"worker_alive: no {pool}worker process beats on {host}", file=sys.stderr)
        return 1
    print(f"worker_alive: {len(workers)} {pool}worker processes beat on {host}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
