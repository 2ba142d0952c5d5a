"""A Supervisor over toy children, on fast backoff: `python -m tests.scripts.toy_supervisor DIR`.

- crasher: exits with code 3 at once, every time;
- sleeper: sleeps, with a `sleep` of its own in its process group that would outlive it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scripts.supervisor import Child, Policy, Supervisor

SLEEPER = "import subprocess, time; subprocess.Popen(['sleep', '600']); time.sleep(600)"


def spawn(code: str):
    return lambda options: subprocess.Popen([sys.executable, "-c", code], **options)


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    policy = Policy(backoff_s=0.1, backoff_cap_s=0.4, loop_deaths=5, stop_timeout_s=5)
    children = [Child("crasher", spawn("raise SystemExit(3)")), Child("sleeper", spawn(SLEEPER))]
    sys.exit(Supervisor(children, folder / "run.json", policy=policy).run())
