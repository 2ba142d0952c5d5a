"""Keep the run command's processes alive: a child that dies is started again, with backoff.

Each child runs in a process group of its own, so that
- Ctrl-C in the terminal reaches only the supervisor, which stops the children in order
  (the API first, Redis last) instead of all of them at once;
- when a child dies, whatever it left in its group (a Celery worker's pool processes) can be
  found, counted in the log and stopped before the replacement starts;
- each child is told by the kernel when the supervisor dies (PR_SET_PDEATHSIG), so a
  supervisor killed outright leaves no orphans holding the ports or the data directory.

A child that dies is restarted after 1, 2, 4 ... seconds (capped); the delay starts again at one
second once a child has stayed up for a minute. A child that dies again and again soon after
starting is reported once, plainly, and still restarted at the capped delay: the API stays up
while Redis or a worker is being fixed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Policy:
    backoff_s: float = 1.0
    backoff_cap_s: float = 30.0
    stable_after_s: float = 60.0  # up this long: the next death starts the backoff over
    loop_deaths: int = 5  # this many deaths within loop_window_s: reported as a crash loop
    loop_window_s: float = 60.0
    stop_timeout_s: float = 15.0  # SIGTERM, then this long, then SIGKILL of the whole group
    poll_s: float = 0.2


@dataclass
class Child:
    name: str
    # Starts the process with the given Popen options (session, parent-death signal).
    start: Callable[[dict], subprocess.Popen]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    quick_deaths: int = 0
    deaths: deque = field(default_factory=deque)
    loop_reported: bool = False


def _die_with_parent() -> None:  # runs in the child between fork and exec
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


POPEN_OPTIONS = {"start_new_session": True}
if sys.platform.startswith("linux"):
    POPEN_OPTIONS["preexec_fn"] = _die_with_parent


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


def group_members(pgid: int) -> list[int]:
    """Live processes (zombies aside) of a process group, from /proc; [] where there is none."""
    members = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _ppid, group = stat.rsplit(")", 1)[1].split()[:3]
        if int(group) == pgid and state not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


class Supervisor:
    def __init__(
        self,
        children: list[Child],
        status_path: Path | None = None,
        extra_status: dict | None = None,
        policy: Policy | None = None,
    ):
        self.children = children
        self.status_path = status_path
        self.extra_status = extra_status or {}
        self.policy = policy or Policy()
        self.signals = 0

    def log(self, message: str) -> None:
        print(f"{clock(time.time())} run: {message}", flush=True)

    def run(self, on_started: Callable[[], None] | None = None) -> int:
        """Start every child, keep them running until SIGINT/SIGTERM/SIGHUP, stop them. 0."""
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        try:
            for child in self.children:
                if not self.signals:
                    self._start(child)
            if on_started and not self.signals:
                on_started()
            while not self.signals:
                self._tend()
                time.sleep(self.policy.poll_s)
        finally:
            self._stop_all()
        return 0

    def _on_signal(self, signum, _frame) -> None:
        self.signals += 1
        if self.signals == 1:
            self.log(f"{signal.Signals(signum).name}: stopping everything (again to force)")

    def _start(self, child: Child) -> None:
        child.restart_at = None
        try:
            child.process = child.start(dict(POPEN_OPTIONS))
        except Exception as exc:  # a start that fails counts as a death: back off and retry
            child.process = None
            self.log(f"{child.name} did not start: {exc}")
            self._schedule_restart(child, "did not start")
            return
        child.started_at = time.monotonic()
        self.log(f"started {child.name} (pid {child.process.pid})")
        self._write_status()

    def _tend(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                self._on_death(child)
            elif child.restart_at is not None and now >= child.restart_at:
                self._start(child)
            elif (
                child.loop_reported
                and child.process
                and now - child.started_at > self.policy.stable_after_s
            ):
                child.loop_reported = False
                self.log(f"{child.name} has stayed up for {self.policy.stable_after_s:.0f} s")

    def _on_death(self, child: Child) -> None:
        process, child.process = child.process, None
        self._write_status()
        uptime = time.monotonic() - child.started_at
        what = f"(pid {process.pid}) {describe_exit(process.returncode)} after {uptime:.1f} s"
        left = self._reap_group(process.pid)
        if left:
            what += f"; {len(left)} of its processes outlived it and were stopped"
        if uptime >= self.policy.stable_after_s:
            child.quick_deaths = 0
        self._schedule_restart(child, what)

    def _schedule_restart(self, child: Child, what: str) -> None:
        policy, now = self.policy, time.monotonic()
        delay = min(policy.backoff_cap_s, policy.backoff_s * 2**child.quick_deaths)
        child.quick_deaths += 1
        child.restart_at = now + delay
        child.deaths.append(now)
        while child.deaths and now - child.deaths[0] > policy.loop_window_s:
            child.deaths.popleft()
        self.log(
            f"{child.name} {what}; restarting it in {delay:g} s, at {clock(time.time() + delay)}"
        )
        if len(child.deaths) >= policy.loop_deaths and not child.loop_reported:
            child.loop_reported = True
            self.log(
                f"{child.name} keeps dying: {len(child.deaths)} times within "
                f"{policy.loop_window_s:.0f} s. Its own output above says why; it is still "
                f"restarted, at most every {policy.backoff_cap_s:g} s."
            )

    def _reap_group(self, pgid: int) -> list[int]:
        """Stop what a dead child left in its group: work nobody can acknowledge any more."""
        left = group_members(pgid)
        if left:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        return left

    def _stop_all(self) -> None:
        """Stop in reverse order of starting: the API before the workers, Redis last."""
        for child in reversed(self.children):
            child.restart_at = None
            process, child.process = child.process, None
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            deadline = time.monotonic() + self.policy.stop_timeout_s
            while process.poll() is None and time.monotonic() < deadline and self.signals < 2:
                time.sleep(0.05)
            if process.poll() is None:
                self.log(f"{child.name} (pid {process.pid}) did not stop in time; killing it")
            self._reap_group(process.pid)
            process.wait()
            self.log(f"stopped {child.name}")
        if self.status_path:
            self.status_path.unlink(missing_ok=True)

    def _write_status(self) -> None:
        """Who is running now, for people and tests: pids by name, in DATA_DIR/run.json."""
        if not self.status_path:
            return
        status = {
            **self.extra_status,
            "pid": os.getpid(),
            "children": {c.name: c.process.pid if c.process else None for c in self.children},
        }
        tmp = self.status_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(status, indent=2))
        os.replace(tmp, self.status_path)  # readers never see half a file
