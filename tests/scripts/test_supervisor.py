"""The supervisor itself, over toy processes: backoff, crash loops, leftovers, stopping."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from config import PROJECT_ROOT
from tests.scripts.run_process import alive, children_of


def wait_for(predicate, what, timeout_s=20):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not reached in {timeout_s} s"
        time.sleep(0.05)


@pytest.fixture
def toy(tmp_path):
    log_path = tmp_path / "supervisor.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.scripts.toy_supervisor", str(tmp_path)],
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log = lambda: log_path.read_text()
    process.pids = lambda: json.loads((tmp_path / "run.json").read_text())["children"]
    process.status_path = tmp_path / "run.json"
    process.spawned = []  # grandchildren seen, killed at the end whatever happens
    wait_for(lambda: process.status_path.exists() and process.pids()["sleeper"], "started")
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    # The children have sessions of their own; the sleeper's `sleep` would outlive them all.
    for pid in process.pids().values() if process.status_path.exists() else ():
        with contextlib.suppress(ProcessLookupError, TypeError):
            os.killpg(pid, signal.SIGKILL)
    for pid in process.spawned:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_a_child_that_keeps_dying_is_restarted_with_growing_delays_and_reported(toy):
    wait_for(lambda: "crasher keeps dying" in toy.log(), "crash loop reported")
    delays = re.findall(
        r"crasher \(pid \d+\) exited with code 3 .*restarting it in ([\d.]+) s", toy.log()
    )
    assert [float(d) for d in delays[:5]] == [0.1, 0.2, 0.4, 0.4, 0.4]
    assert "crasher keeps dying: 5 times within 60 s" in toy.log()
    assert toy.log().count("keeps dying") == 1  # reported once, not at every death


def test_what_a_dead_child_leaves_in_its_group_is_stopped_and_counted(toy):
    sleeper = toy.pids()["sleeper"]
    wait_for(lambda: children_of(sleeper), "the sleeper's own child")
    (grandchild,) = children_of(sleeper)
    toy.spawned.append(grandchild)
    os.kill(sleeper, signal.SIGKILL)
    wait_for(lambda: toy.pids()["sleeper"] not in (None, sleeper), "sleeper restarted")
    line = re.search(rf"sleeper \(pid {sleeper}\) was killed by SIGKILL.*", toy.log())[0]
    assert re.search(
        r"after [\d.]+ s; 1 of its processes outlived it and were stopped; restarting it in 0.1 s",
        line,
    )
    assert not alive(grandchild)


def test_sigterm_stops_every_child_and_its_group(toy):
    sleeper = toy.pids()["sleeper"]
    wait_for(lambda: children_of(sleeper), "the sleeper's own child")
    (grandchild,) = children_of(sleeper)
    toy.spawned.append(grandchild)
    toy.send_signal(signal.SIGTERM)
    assert toy.wait(20) == 0
    assert not alive(sleeper) and not alive(grandchild)
    assert not toy.status_path.exists()
    assert "stopped sleeper" in toy.log()


def test_children_die_with_a_supervisor_killed_outright(toy):
    sleeper = toy.pids()["sleeper"]
    wait_for(lambda: children_of(sleeper), "the sleeper's own child")
    toy.spawned += children_of(sleeper)  # its `sleep` has no parent-death signal: ours to stop
    toy.send_signal(signal.SIGKILL)  # no chance to stop anything itself
    toy.wait()
    wait_for(lambda: not alive(sleeper), "the sleeper told of its parent's death", timeout_s=5)
