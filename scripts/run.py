"""Start the whole service: Redis (if none answers), the API, a Celery worker and Celery Beat.

    python -m scripts.run [--host 127.0.0.1] [--port 8000] [--concurrency N]

Ctrl-C stops everything. If any part exits, the rest are stopped too, so a half-running service
never looks healthy.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from config import get_settings
from scripts.commands import api_command, beat_command, worker_command
from utils.embedded_redis import EmbeddedRedis, redis_answers


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.run")
    parser.add_argument("--host", default=os.environ.get("API_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("API_PORT", "8000")))
    parser.add_argument(
        "--concurrency",
        type=int,
        default=os.cpu_count() or 2,
        help="worker processes (default: one per core)",
    )
    args = parser.parse_args()
    settings = get_settings()

    embedded = None
    if settings.REDIS_URL and redis_answers(settings.REDIS_URL):
        redis_url = settings.REDIS_URL
        print("using Redis from REDIS_URL", flush=True)
    else:
        if settings.REDIS_URL:
            print("REDIS_URL does not answer; starting the bundled Redis", flush=True)
        embedded = EmbeddedRedis(settings.EMBEDDED_REDIS_PORT, settings.DATA_DIR / "redis")
        if redis_answers(embedded.url):
            print(f"using the Redis already on port {embedded.port}", flush=True)
            embedded = None
        else:
            embedded.start()
            print(
                f"started bundled Redis on port {embedded.port} (data in {embedded.data_dir})",
                flush=True,
            )
        redis_url = f"redis://127.0.0.1:{settings.EMBEDDED_REDIS_PORT}/0"

    env = {**os.environ, "REDIS_URL": redis_url}
    settings.TEMP_DIR.mkdir(parents=True, exist_ok=True)
    commands = {
        "api": api_command(args.port, host=args.host),
        "worker": worker_command(args.concurrency),
        "beat": beat_command(str(settings.DATA_DIR / "celerybeat-schedule")),
    }
    children = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}
    print(
        f"API on http://{args.host}:{args.port} (docs at /docs); Ctrl-C stops everything",
        flush=True,
    )

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"{name} exited with {child.returncode}; stopping the service", flush=True)
                exit_code, stopping = 1, True
        time.sleep(0.5)

    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(15)
        except subprocess.TimeoutExpired:
            child.kill()
    if embedded:
        embedded.stop()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
