"""Is beat alive? `python -m scripts.beat_alive SCHEDULE [--max-age SECONDS]`, for health checks.

Beat keeps no heartbeat of its own, but it writes its schedule file (SCHEDULE, the path given
to `celery beat --schedule`) when it starts and again every three minutes while its loop turns
(Celery's PersistentScheduler.sync_every), whether or not Redis answers. A file younger than
--max-age therefore means a beat whose loop still runs; an older one, or none, a beat that hung.

The file's name depends on the dbm module Python was built with (`SCHEDULE`, `SCHEDULE.db`, or
`SCHEDULE.dat` with `.dir` and `.bak`), so every file named SCHEDULE or SCHEDULE.* counts.
Exit status 0 when alive, 1 (with the reason on stderr) when not. Standard library only: it
runs every few seconds and must start fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

# Three sync periods (180 s each): one missed write is not yet a hung beat.
DEFAULT_MAX_AGE_S = 540.0


def schedule_age(schedule: Path, now: float | None = None) -> float | None:
    """Seconds since beat last wrote its schedule, None if it never did."""
    files = [schedule, *schedule.parent.glob(f"{schedule.name}.*")]
    times = [f.stat().st_mtime for f in files if f.is_file()]
    if not times:
        return None
    return (time.time() if now is None else now) - max(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.beat_alive")
    parser.add_argument("schedule", type=Path, help="the path given to celery beat --schedule")
    parser.add_argument("--max-age", type=float, default=DEFAULT_MAX_AGE_S, help="seconds")
    args = parser.parse_args(argv)
    age = schedule_age(args.schedule)
    if age is None:
        print(f"beat has not written {args.schedule} yet", file=sys.stderr)
        return 1
    if age > args.max_age:
        print(f"beat last wrote {args.schedule} {age:.0f} s ago", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
