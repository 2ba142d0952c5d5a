"""Peak resident memory of this process (VmHWM), for benchmarks run in a fresh process."""

from __future__ import annotations


def peak_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM"))
    return int(line.split()[1]) / 1024
