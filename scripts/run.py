"""Start the whole service and keep it running: Redis (if none answers), the API, the Wyoming
server (WYOMING_ENABLED), the Celery worker pools and Celery Beat.

    python -m scripts.run [--host 127.0.0.1] [--port 8000] [--concurrency N]

Before anything starts, each of these ends the command with one line: settings that are refused
(config.py names each one), a DATA_DIR another run command holds, an API port in use. After
that, scripts/supervisor.py restarts whichever part dies, with backoff, and keeps the API up
meanwhile. Ctrl-C (or SIGTERM) stops everything. DATA_DIR/run.json lists the running pids.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from config import PROJECT_ROOT, get_settings
from scripts.beat import beat_schedule_path
from scripts.commands import api_command, beat_command, pool_commands, wyoming_command
from scripts.preflight import PreflightError, check_port_free, claim_data_dir
from scripts.supervisor import Child, Supervisor
from utils.cpus import usable_cpus
from utils.embedded_redis import EmbeddedRedis, redis_answers


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.run")
    parser.add_argument("--host", help="where the API listens (default: API_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="the API's port (default: API_PORT, 8000)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=usable_cpus(),
        help="local (CPU) worker processes (default: one per core this process may use)",
    )
    args = parser.parse_args()
    # Through the environment, so every child reads the same values, and the SECRET_KEY check
    # for a host beyond loopback applies to the host actually used.
    if args.host is not None:
        os.environ["API_HOST"] = args.host
    if args.port is not None:
        os.environ["API_PORT"] = str(args.port)
    settings = get_settings()  # refused settings end the process here, with their names

    try:
        data_dir_lock = claim_data_dir(settings.DATA_DIR)
        check_port_free(settings.API_HOST, settings.API_PORT)
        if settings.wyoming.enabled:
            check_port_free(settings.wyoming.host, settings.wyoming.port, "WYOMING_PORT")
        children, redis_url = redis_child(settings)
    except PreflightError as exc:
        print(f"run: {exc}", file=sys.stderr, flush=True)
        return 1

    with data_dir_lock:
        env = {**os.environ, "REDIS_URL": redis_url}
        settings.TEMP_DIR.mkdir(parents=True, exist_ok=True)
        commands = {
            # worker-local, and worker-network-N: as many network processes as cores
            **pool_commands(args.concurrency, network_processes=args.concurrency),
            "beat": beat_command(str(beat_schedule_path(settings))),
            "api": api_command(
                settings.API_PORT,
                host=settings.API_HOST,
                forwarded_allow_ips=settings.FORWARDED_ALLOW_IPS,
            ),
        }
        if settings.wyoming.enabled:
            commands["wyoming"] = wyoming_command(settings.wyoming.host, settings.wyoming.port)
        children += [
            Child(name, spawner(cmd, {**env, **metrics_port(settings, name, commands)}))
            for name, cmd in commands.items()
        ]
        api_url = f"http://{settings.API_HOST}:{settings.API_PORT}"
        status_path = settings.DATA_DIR / "run.json"
        supervisor = Supervisor(children, status_path, extra_status={"api_url": api_url})
        wyoming = settings.wyoming
        where = f"; Wyoming on {wyoming.host}:{wyoming.port}" if wyoming.enabled else ""
        return supervisor.run(
            on_started=lambda: supervisor.log(
                f"API on {api_url} (docs at /docs){where}; pids in {status_path}; "
                "Ctrl-C stops everything"
            )
        )


def redis_child(settings) -> tuple[list[Child], str]:
    """The Redis to use, and the child that runs it when it is the bundled one."""
    if settings.REDIS_URL and redis_answers(settings.REDIS_URL, sentinel=settings.sentinel):
        # Never the URL itself: it may hold a password.
        print("run: using Redis from REDIS_URL", flush=True)
        return [], settings.REDIS_URL
    if settings.REDIS_URL:
        print("run: REDIS_URL does not answer; starting the bundled Redis", flush=True)
    password = settings.EMBEDDED_REDIS_PASSWORD
    embedded = EmbeddedRedis(
        settings.EMBEDDED_REDIS_PORT,
        settings.DATA_DIR / "redis",
        password=password.get_secret_value() if password else None,
    )
    if redis_answers(embedded.url):
        print(f"run: using the Redis already on port {embedded.port}", flush=True)
        return [], embedded.url
    check_port_free("127.0.0.1", embedded.port, "EMBEDDED_REDIS_PORT")  # taken, not by a Redis
    print(f"run: bundled Redis on port {embedded.port}, data in {embedded.data_dir}", flush=True)
    return [Child("redis", lambda options: embedded.start(**options).process)], embedded.url


def metrics_port(settings, name: str, commands: dict) -> dict[str, str]:
    """Each worker pool serves its metrics on a port of its own: WORKER_METRICS_PORT for
    worker-local, the next ones for worker-network-1, -2, ... (0: none serves any)."""
    pools = [n for n in commands if n.startswith("worker-")]
    if name not in pools or not settings.WORKER_METRICS_PORT:
        return {}
    return {"WORKER_METRICS_PORT": str(settings.WORKER_METRICS_PORT + pools.index(name))}


def spawner(command: list[str], env: dict[str, str]):
    def start(options: dict) -> subprocess.Popen:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, **options)

    return start


if __name__ == "__main__":
    sys.exit(main())
