"""Real Celery worker processes for tests, with their own environment."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from config import PROJECT_ROOT
from scripts.commands import beat_command, worker_command


class WorkerProcess:
    def __init__(
        self,
        log_path: Path,
        env: dict[str, str] | None = None,
        concurrency: int = 2,
        pool: str = "prefork",
        name: str = "worker",
    ):
        self.log_path = log_path
        self.args = worker_command(concurrency, pool, f"{name}@%h", standalone=True)
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        with self.log_path.open("wb") as log:
            # A session of its own, so kill() can take the pool processes down with it.
            self.process = subprocess.Popen(
                self.args,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout_s: float = 60) -> WorkerProcess:
        deadline = time.monotonic() + timeout_s
        while b" ready." not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"worker did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        """SIGKILL the worker and every pool process: no warm shutdown, no acks, no requeue."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class BeatProcess:
    """Celery beat in its own process, with its own schedule file in `folder`."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None):
        folder.mkdir(parents=True, exist_ok=True)
        self.log_path = folder / "beat.log"
        self.args = beat_command(str(folder / "schedule"))
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None

    def start(self) -> BeatProcess:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.args, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
