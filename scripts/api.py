"""Serve the API alone, as configured: `python -m scripts.api [--workers N]` (what the image runs).

The uvicorn command line is the run command's own (scripts/commands.py), so API_HOST, API_PORT
and FORWARDED_ALLOW_IPS mean the same in a container as under `make run`.
"""

from __future__ import annotations

import argparse
import os
import sys

from config import get_settings
from scripts.commands import api_command


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.api")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    # Read here first, so bad settings end this process with one message instead of every
    # uvicorn worker failing on its own.
    settings = get_settings()
    command = api_command(
        settings.API_PORT,
        host=settings.API_HOST,
        workers=args.workers,
        forwarded_allow_ips=settings.FORWARDED_ALLOW_IPS,
    )
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
