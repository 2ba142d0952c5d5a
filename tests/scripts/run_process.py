"""`python -m scripts.run` as a real process on free ports, in a data directory of its own."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from config import PROJECT_ROOT
from utils.embedded_redis import free_port

ADMIN_PASSWORD = "run-admin-password"


def run_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a run command that starts its own Redis. REDIS_URL is set empty (not
    removed) so a REDIS_URL in the checkout's .env cannot take its place."""
    return {
        **os.environ,
        "REDIS_URL": "",
        "API_PORT": str(free_port()),
        "WYOMING_PORT": str(free_port()),
        "EMBEDDED_REDIS_PORT": str(free_port()),
        "DATA_DIR": str(tmp / "data"),
        "TEMP_DIR": str(tmp / "temp"),
        "SECRET_KEY": "run-command-test-secret-0123456789abcdef",
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        **extra,
    }


def run_once(env: dict[str, str], *args: str, timeout_s: float = 60) -> subprocess.CompletedProcess:
    """A run command expected to end by itself (refused before starting anything)."""
    return subprocess.run(
        [sys.executable, "-m", "scripts.run", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


class RunCommand:
    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int = 2):
        self.env = env
        self.log_path = log_path
        self.concurrency = concurrency
        self.base_url = f"http://127.0.0.1:{env['API_PORT']}"
        self.wyoming_port = int(env["WYOMING_PORT"])
        self.status_path = Path(env["DATA_DIR"]) / "run.json"
        self.process: subprocess.Popen | None = None

    def start(self) -> RunCommand:
        with self.log_path.open("wb") as log:
            # A session of its own, so the cleanup can take everything down even if it fails.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "scripts.run", "--concurrency", str(self.concurrency)],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pids(self) -> dict[str, int | None]:
        return json.loads(self.status_path.read_text())["children"]

    def wait_until(self, predicate, what: str, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if self.process.poll() is not None:
                raise AssertionError(f"run command exited while waiting for {what}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not reached in {timeout_s} s\n{self.log()[-4000:]}")
            time.sleep(0.2)

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def workers_ready(self) -> int:
        return self.log().count(" ready.")

    def wyoming_listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.wyoming_port), timeout=2).close()
            return True
        except OSError:
            return False

    def wait_ready(self) -> RunCommand:
        self.wait_until(self.status_path.exists, "status file")
        self.wait_until(self.healthy, "API health")
        if self.env.get("WYOMING_ENABLED", "true").lower() != "false":
            self.wait_until(self.wyoming_listening, "the Wyoming server listening")
        self.wait_until(lambda: self.workers_ready() >= 2, "both worker pools ready")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        # Children run in sessions of their own and die with the run command (parent-death
        # signal); any left are killed here so a failed test leaves nothing behind.
        if self.status_path.exists():
            for pid in self.pids().values():
                if pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    """Running (not a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found
