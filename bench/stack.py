"""A whole service for benchmarks: its own Redis, the upstream simulator, workers, an API."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import redis

from config import PROJECT_ROOT
from scripts.commands import api_command, pool_commands, worker_command
from simulator import SimulatorServer
from utils.auth.users import UserStore
from utils.embedded_redis import EmbeddedRedis, free_port
from utils.names import job_key

BENCH_USER, BENCH_PASSWORD = "bench", "bench-password"
OTHER_USER = "bench-other"  # a second user, same password, for fairness


def cpu_seconds(pid: int) -> float:
    """CPU seconds a process has used, every thread of it (/proc/{pid}/stat utime + stime)."""
    return _stat(pid)[0]


def tree_cpu_seconds(pid: int = 0) -> float:
    """CPU seconds used by a process (default: this one, with the simulator's thread) and every
    process below it still running (a stack's Redis, workers and pool processes, its API)."""
    root = pid or os.getpid()
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                children.setdefault(_stat(int(entry))[1], []).append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue  # ended meanwhile
    total, todo = 0.0, [root]
    while todo:
        current = todo.pop()
        try:
            total += cpu_seconds(current)
        except (FileNotFoundError, ProcessLookupError):
            continue
        todo += children.get(current, [])
    return total


def _stat(pid: int) -> tuple[float, int]:
    """(CPU seconds, parent pid) from /proc/{pid}/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), int(fields[1])


class Stack:
    """Start with `with Stack() as stack:`; add workers and an API as a benchmark needs them."""

    def __init__(
        self,
        account_limit: int = 20,
        cache: bool = False,
        providers: dict | None = None,
        env: dict[str, str] | None = None,
    ):
        self.dir = Path(tempfile.mkdtemp(prefix="tts-bench-"))
        self.redis = EmbeddedRedis(free_port(), self.dir / "redis", persistent=False)
        self.simulator = SimulatorServer()
        self.processes: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            "DATA_DIR": str(self.dir / "data"),
            "TEMP_DIR": str(self.dir / "temp"),
            "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "RATE_LIMIT_ENABLED": "false",
            "MAX_BLOCKS": "1000",  # the fairness benchmark queues a 300-block job
            "AUDIO_CACHE_TTL": "3600" if cache else "0",
            "PROVIDERS": json.dumps(
                {
                    "piper": {"type": "piper", "concurrency": None},
                    "cloud": {
                        "type": "openai",
                        "api_key": "bench-key",
                        "base_url": f"{self.simulator.url}/v1",
                        "concurrency": account_limit,
                    },
                    **(providers or {}),
                }
            ),
            **(env or {}),
        }

    def __enter__(self) -> Stack:
        self.redis.start()
        self.simulator.start()
        self.env["REDIS_URL"] = self.redis.url
        self.client = redis.Redis.from_url(self.redis.url, decode_responses=True)
        for user in (BENCH_USER, OTHER_USER):
            UserStore(self.client).set_password(user, BENCH_PASSWORD)
        return self

    def __exit__(self, *exc) -> None:
        self.stop_processes()
        self.simulator.stop()
        self.redis.stop()

    def _spawn(self, args: list[str], log_name: str) -> subprocess.Popen:
        log = (self.dir / log_name).open("wb")
        process = subprocess.Popen(
            args, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.append(process)
        return process

    def start_workers(self, processes: int, concurrency: int, pool: str = "prefork") -> None:
        for i in range(processes):
            log = self.dir / f"worker-{len(self.processes)}.log"
            self._spawn(
                worker_command(concurrency, pool, f"bench{i}@%h", standalone=True), log.name
            )
            self._wait_for(lambda log=log: b" ready." in log.read_bytes())

    def start_pools(self, local_processes: int | None = None) -> dict[str, int]:
        """The worker pools as `make run` starts them (scripts/commands.py pool_commands);
        their process ids by name."""
        local = local_processes or os.cpu_count() or 2
        pids = {}
        for name, command in pool_commands(local, network_processes=local).items():
            log = self.dir / f"{name}.log"
            pids[name] = self._spawn(
                command + ["--without-mingle", "--without-gossip"], log.name
            ).pid
            self._wait_for(lambda log=log: b" ready." in log.read_bytes())
        return pids

    def start_api(self, workers: int = 1) -> str:
        port = free_port()
        self._spawn(api_command(port, workers=workers, quiet=True), "api.log")
        self.api_url = f"http://127.0.0.1:{port}"
        self._wait_for(self._api_answers)
        self.token = self.token_of(BENCH_USER)
        return self.api_url

    def token_of(self, user: str) -> str:
        answer = httpx.post(
            f"{self.api_url}/token", data={"username": user, "password": BENCH_PASSWORD}
        )
        return answer.json()["access_token"]

    def _api_answers(self) -> bool:
        try:
            return httpx.get(f"{self.api_url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop_processes(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()

    @staticmethod
    def _wait_for(predicate, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise RuntimeError("a benchmark service did not start")
            time.sleep(0.1)

    def http(self, user: str = BENCH_USER) -> httpx.Client:
        token = self.token if user == BENCH_USER else self.token_of(user)
        return httpx.Client(
            base_url=self.api_url, timeout=60, headers={"Authorization": f"Bearer {token}"}
        )

    def wait_done(self, job_id: str, timeout_s: float = 300, poll_s: float = 0.05) -> str:
        """Watch the job's status in Redis (not through the API, so polling costs nothing)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = self.client.hget(job_key(job_id), "status")
            if status in ("completed", "failed"):
                return status
            time.sleep(poll_s)
        raise RuntimeError(f"job {job_id} did not finish")
