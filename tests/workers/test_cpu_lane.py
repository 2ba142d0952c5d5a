"""The network pool's CPU work runs on low-priority threads of its own once the lane is open,
inline otherwise."""

from __future__ import annotations

import os
import threading

import pytest

from utils.logs import bind_fields, current_fields, reset_fields
from workers import cpu_lane


def _where() -> tuple[int, int]:
    tid = threading.get_native_id()
    return tid, os.getpriority(os.PRIO_PROCESS, tid)


def test_without_a_lane_the_work_runs_inline():
    assert not cpu_lane.lane_open()
    assert cpu_lane.run(_where) == _where()


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="thread niceness is Linux's")
def test_on_the_lane_the_work_runs_on_a_thread_niced_below_the_caller():
    caller_tid, caller_nice = _where()
    cpu_lane.open_lane(2)
    try:
        tid, nice = cpu_lane.run(_where)
        assert tid != caller_tid
        assert nice == min(cpu_lane.MAX_NICENESS, caller_nice + cpu_lane.CPU_WORK_NICENESS)
        assert _where() == (caller_tid, caller_nice)  # the caller's own priority untouched
        with pytest.raises(ValueError, match="no audio"):
            cpu_lane.run(_raise, ValueError("no audio"))
    finally:
        cpu_lane.close_lane()
    assert cpu_lane.run(_where) == _where()


def _raise(exc: Exception) -> None:
    raise exc


def test_lane_work_carries_the_callers_log_fields():
    token = bind_fields(request_id="req-1", job_id="job-1", block=3)
    cpu_lane.open_lane(1)
    try:
        fields = cpu_lane.run(current_fields)
        assert fields == {"request_id": "req-1", "job_id": "job-1", "block": 3}
    finally:
        cpu_lane.close_lane()
        reset_fields(token)
