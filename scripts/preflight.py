"""Checks the run command makes before it starts anything, each failing with one plain line."""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from pathlib import Path
from typing import IO

LOCK_NAME = "run.lock"


class PreflightError(Exception):
    """A reason not to start, worded for the person who typed `make run`."""


def claim_data_dir(data_dir: Path) -> IO[str]:
    """Hold an exclusive lock on DATA_DIR for the life of this process.

    Two run commands on one DATA_DIR would run two redis-servers on one append-only file (and
    two beats on one schedule). The lock is the kernel's: it goes when the process does, however
    it ends, so a crash leaves nothing to clean up. Keep the returned file open.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_NAME
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise PreflightError(
            f"another run command (pid {holder}) is using DATA_DIR {data_dir}; stop it, "
            "or give this one a DATA_DIR of its own"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def check_port_free(host: str, port: int, setting: str = "API_PORT") -> None:
    """Bind the address once, as uvicorn and redis-server will, so "in use" is said before
    anything starts. `setting` is the one that chooses another port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As uvicorn does: a port in TIME_WAIT is free to take.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PreflightError(
                    f"port {port} on {host} is already in use; stop what holds it, or choose "
                    f"another with {setting} in .env"
                    + (" (or --port)" if setting == "API_PORT" else "")
                ) from None
            raise PreflightError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
