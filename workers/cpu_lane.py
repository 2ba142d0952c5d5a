"""CPU work below network work: the niceness of CPU-bound work, and the network pool's lane of
low-priority threads for its own CPU work.

A network-pool process runs many blocks at once, each mostly waiting on its provider. Once a
block's audio arrives, making it ready to store (workers/block_audio.py: decoding, leveling,
encoding, its timings) takes a few ms of CPU; when a round of
blocks answers together, that work fills every core for a few hundred ms, and the blocks just
handed the slots those blocks freed (their Redis calls, their requests) queue behind it for a
core while the account's slots idle. Run on the lane's threads, niced like the local pool's
processes, the CPU work yields to the network work instead (measured in `make bench`, accounts:
at 30 slots, a freed slot's median idle time went from ~65 ms to ~28 ms).

The heavy parts (MP3 decoding, resampling, LAME) release the interpreter lock, so a niced
thread holding the lock while the kernel makes it wait is rare and short.
"""

from __future__ import annotations

import contextvars
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

# Local synthesis processes and the lane's threads: below everything that waits on the network.
CPU_WORK_NICENESS = 10
MAX_NICENESS = 19

T = TypeVar("T")

_lane: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def open_lane(threads: int) -> None:
    """From now on, run `run()`'s work on `threads` low-priority threads (once per process)."""
    global _lane
    with _lock:
        if _lane is None:
            _lane = ThreadPoolExecutor(
                max(1, threads), thread_name_prefix="cpu-lane", initializer=_lower_priority
            )


def close_lane() -> None:
    """Back to running the work inline (after the lane's queued work is done)."""
    global _lane
    with _lock:
        lane, _lane = _lane, None
    if lane is not None:
        lane.shutdown(wait=True)


def lane_open() -> bool:
    return _lane is not None


def _lower_priority() -> None:
    # On Linux a thread has a niceness of its own: setpriority on its thread id (it starts
    # with its process's, as os.nice() lowers a whole local-pool process from its own).
    if sys.platform == "linux":
        tid = threading.get_native_id()
        nice = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(MAX_NICENESS, nice + CPU_WORK_NICENESS))


def run(fn: Callable[..., T], *args, **kwargs) -> T:
    """`fn(*args, **kwargs)` on the lane, waiting for its result (or its exception); inline
    where no lane is open: the local pool, whose processes are niced as a whole, and tests."""
    lane = _lane
    if lane is None:
        return fn(*args, **kwargs)
    # in the caller's context: its log lines carry the block's request id and job
    return lane.submit(contextvars.copy_context().run, fn, *args, **kwargs).result()
