"""The command lines of the service's processes, in one place for the run command, the tests
and the benchmarks."""

from __future__ import annotations

import sys

from utils.names import ALL_QUEUES

QUEUES = ",".join(ALL_QUEUES)
# Longer than clients keep idle connections (httpx: 5 s), so none is reused just as the server
# closes it.
KEEP_ALIVE_S = 65


def api_command(
    port: int,
    host: str = "127.0.0.1",
    workers: int = 1,
    quiet: bool = False,
    forwarded_allow_ips: str = "",
):
    """uvicorn serving the API. X-Forwarded-For is believed only from `forwarded_allow_ips`
    (Settings.FORWARDED_ALLOW_IPS): uvicorn would otherwise trust it from 127.0.0.1, and any
    local client could pick the address its POST /token rate limit is counted against."""
    if forwarded_allow_ips.strip():
        proxy = ["--proxy-headers", "--forwarded-allow-ips", forwarded_allow_ips.strip()]
    else:
        proxy = ["--no-proxy-headers"]
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.main:app",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--timeout-keep-alive",
        str(KEEP_ALIVE_S),
        *proxy,
    ]
    return command + (["--log-level", "warning", "--no-access-log"] if quiet else [])


def worker_command(
    concurrency: int, pool: str = "prefork", hostname: str | None = None, standalone: bool = False
):
    """A Celery worker on every queue. `standalone` skips the start-up chatter with other
    workers (mingle, gossip), which tests and benchmarks that start several at once wait on."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.celery_app",
        "worker",
        "-Q",
        QUEUES,
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
    ]
    if hostname:
        command += ["--hostname", hostname]
    return command + (["--without-mingle", "--without-gossip"] if standalone else [])


def beat_command(schedule_path: str):
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.celery_app",
        "beat",
        "--loglevel",
        "INFO",
        "--schedule",
        schedule_path,
    ]
