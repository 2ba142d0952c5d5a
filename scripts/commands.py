"""The command lines of the service's processes, in one place for the run command, the tests
and the benchmarks."""

from __future__ import annotations

import sys

from utils.names import ALL_QUEUES, LOCAL_POOL_QUEUES, NETWORK_POOL_QUEUES

# The network pool's threads spend their time waiting on upstream APIs: enough of them to keep
# every account's slots busy at once (measured in `make bench`: about 1 MB per thread).
NETWORK_POOL_THREADS = 64
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


def wyoming_command(host: str, port: int) -> list[str]:
    """The Wyoming server for Home Assistant (api/wyoming/)."""
    return [sys.executable, "-m", "api.wyoming", "--host", host, "--port", str(port)]


def pool_commands(
    local_processes: int,
    network_threads: int = NETWORK_POOL_THREADS,
    network_processes: int = 1,
) -> dict[str, list[str]]:
    """The two worker pools a machine runs: local (CPU) synthesis on one process per core, and
    everything that waits on the network (cloud providers, control work, housekeeping) on
    threads, so that neither waits behind the other.

    The network pool's threads share one interpreter lock, while each cloud block still costs
    some CPU once its audio arrives (encoding it); `network_processes` spreads the threads over
    that many processes, so that CPU is spread over the cores too."""
    commands = {
        "worker-local": worker_command(
            local_processes, "prefork", "local@%h", queues=LOCAL_POOL_QUEUES
        )
    }
    threads = max(1, network_threads // network_processes)
    for i in range(network_processes):
        name = "worker-network" + (f"-{i + 1}" if network_processes > 1 else "")
        commands[name] = worker_command(
            threads, "threads", f"network{i + 1}@%h", queues=NETWORK_POOL_QUEUES
        )
    return commands


def worker_command(
    concurrency: int,
    pool: str = "prefork",
    hostname: str | None = None,
    standalone: bool = False,
    queues: tuple[str, ...] = ALL_QUEUES,
):
    """A Celery worker on `queues` (default: every queue, one pool for all work). `standalone`
    skips the start-up chatter with other workers (mingle, gossip), which tests and benchmarks
    that start several at once wait on."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.celery_app",
        "worker",
        "-Q",
        ",".join(queues),
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
