"""CPU-bound work of requests, one request at a time per API process.

The event loop shares the GIL with the threads that run sync routes: with four of them parsing
SSML at once, a /live probe waited 60-260 ms for its turns (bench/probe_bench.py). The GIL lets
one thread compute at a time anyway, so letting one request's parsing through at a time costs
no throughput; it only changes who waits: the other requests wait at this gate, and the loop
waits behind at most one thread (a switch interval, 5 ms, each time it wants the GIL).

Only CPU work goes through: nothing that waits on a network (a provider's voice list) may hold
the gate, or one slow upstream would hold every submission.
"""

from __future__ import annotations

import threading

cpu_work = threading.BoundedSemaphore(1)
