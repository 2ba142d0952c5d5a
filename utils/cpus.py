"""How many cores this process may really use: the CPUs it may run on, capped by a container's
CPU quota (cgroup v2 cpu.max, or v1 cfs_quota_us / cfs_period_us).

Inside a container os.cpu_count() is the node's cores, not the container's share: a local pool
of one process per core, or an ONNX session with a thread per core, would start many times
more than the quota lets run, and every one would be throttled.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def _quota(root: Path) -> float | None:
    """The CPU quota in cores, where one is set; None without one."""
    try:
        limit, period = (root / "cpu.max").read_text().split()[:2]  # cgroup v2
        return None if limit == "max" else int(limit) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())  # cgroup v1
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def usable_cpus(root: Path = CGROUP) -> int:
    """At least 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    quota = _quota(root)
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return max(1, cpus)
