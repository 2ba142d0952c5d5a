"""A freed account slot's next block, started in the process that freed it.

Giving a slot back hands it to the next block in line (utils/accounts/slots.py). Sent through
the broker, that block's task must be published, fetched by some worker and given a thread
before its request goes out, and the account's slot idles meanwhile: at 30 slots and 300 ms
calls, a median of ~15 ms and a 90th percentile of 40-100 ms when a round of answers arrives
together (`make bench`, accounts). A network-pool process has threads to spare, so it starts
the handed block itself, at once, on a thread of its own.

Nothing is less safe than the broker's way. Until the block starts, the handoff is noted in
the account's `handed` zset like any other: if this process dies first, beat's
recover_lost_work sends the block again after HANDOFF_GRACE_S. Once started, the block is in
tts:blocks:running under this process, whose heartbeat tells beat if it dies mid-call. Where no
thread is free here, or the process is stopping, the block goes through the broker.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from utils.jobs.shared_storage import refusal_here

log = logging.getLogger(__name__)

# run(job_id, index, queue): make the block; `queue` is where its task would have been sent.
Runner = Callable[[str, int, str], None]


class DirectStarts:
    def __init__(self, run: Runner, threads: int):
        self._run = run
        self._free = threading.BoundedSemaphore(threads)
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="handed-block")
        self._stopping = False

    def start(self, job_id: str, index: int, queue: str) -> bool:
        """Start the block on a thread of this process now; False where it cannot."""
        if self._stopping or not self._free.acquire(blocking=False):
            return False
        try:
            # in the releasing block's context, which the runner reads its log fields from
            context = contextvars.copy_context()
            self._threads.submit(context.run, self._make, job_id, index, queue)
        except RuntimeError:  # shut down meanwhile
            self._free.release()
            return False
        return True

    def _make(self, job_id: str, index: int, queue: str) -> None:
        try:
            self._run(job_id, index, queue)
        except Exception:  # the runner handles the block's failures; this is a last resort
            log.exception("block %d of job %s, started here, ended unexpectedly", index, job_id)
        finally:
            self._free.release()

    def stop(self) -> None:
        """Take no more blocks; wait for those started here to end."""
        self._stopping = True
        self._threads.shutdown(wait=True)


_here: DirectStarts | None = None


def serve(run: Runner, threads: int) -> None:
    """Start handed blocks in this process from now on (once per process)."""
    global _here
    if _here is None:
        _here = DirectStarts(run, max(1, threads))


def stop() -> None:
    global _here
    here, _here = _here, None
    if here is not None:
        here.stop()


def start_here(job_id: str, index: int, queue: str) -> bool:
    """Start the handed block in this process, if it serves them and has a thread free."""
    here = _here
    if here is None or refusal_here() is not None:  # not on this storage: the broker's way
        return False
    return here.start(job_id, index, queue)
