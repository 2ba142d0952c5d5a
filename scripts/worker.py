"""Run one worker pool, as `make run` does (and docker-compose, and more machines against the
same Redis): `python -m scripts.worker local|network [--concurrency N]`.

    local     Piper and other CPU-bound synthesis: one process per core (default)
    network   cloud providers, control work and housekeeping: NETWORK_POOL_THREADS threads

The command lines are scripts/commands.py's, so a pool means the same everywhere.
"""

from __future__ import annotations

import argparse
import os
import sys

from config import get_settings
from scripts.commands import NETWORK_POOL_THREADS, pool_commands
from utils.cpus import usable_cpus


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.worker")
    parser.add_argument("pool", choices=["local", "network"])
    parser.add_argument("--concurrency", type=int, help="processes (local) or threads (network)")
    args = parser.parse_args()
    get_settings()  # bad settings end this process with one message, not a traceback
    local = (args.concurrency if args.pool == "local" else None) or usable_cpus()
    network = (args.concurrency if args.pool == "network" else None) or NETWORK_POOL_THREADS
    command = pool_commands(local, network)[f"worker-{args.pool}"]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
