"""Run beat, the service's one scheduler (purges, lost work sent again, webhook retries):
`python -m scripts.beat`.

Its schedule file lives in this machine's DATA_DIR (`beat_schedule_path`), whose folder is made
first: Celery opens the file before anything else and fails on a folder that does not exist,
as it did in a fresh checkout whose DATA_DIR is elsewhere. `scripts.beat_alive` reads the same
file. Exactly one beat runs for the whole service: a second would run every purge twice.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from config import Settings, get_settings
from scripts.commands import beat_command

SCHEDULE_NAME = "celerybeat-schedule"


def beat_schedule_path(settings: Settings) -> Path:
    """Where beat keeps its schedule on this machine; the folder exists once this returns."""
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    return settings.DATA_DIR / SCHEDULE_NAME


def main() -> None:
    settings = get_settings()  # bad settings end this process with one message, not a traceback
    os.execv(sys.executable, beat_command(str(beat_schedule_path(settings))))


if __name__ == "__main__":
    main()
