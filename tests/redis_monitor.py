"""The commands a test's own database is sent, seen with MONITOR on the server it shares with
the session's workers (which talk to other databases there)."""

from __future__ import annotations

import threading
import time

import redis


def commands_sent(client: redis.Redis, port: int, work) -> list[str]:
    """The names of the commands `client`'s database was sent while `work()` ran, not counting
    those run inside scripts."""
    db = client.connection_pool.connection_kwargs["db"]
    sent: list[str] = []
    ready, stop = threading.Event(), threading.Event()
    watcher = redis.Redis(port=port, decode_responses=True)

    def watch():
        with watcher.monitor() as monitor:
            ready.set()
            for command in monitor.listen():
                if stop.is_set():
                    return
                if command.get("client_type") != "lua" and command.get("db") == db:
                    sent.append(command["command"].split(" ", 1)[0].upper())

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    ready.wait(5)
    time.sleep(0.1)  # MONITOR is on before the work's first command
    work()
    time.sleep(0.1)
    stop.set()
    watcher.ping()  # one more line for the watcher to read, and find itself stopped
    thread.join(5)
    return sent
