"""Under the run command each worker pool serves its metrics on a port of its own."""

from __future__ import annotations

from config import Settings
from scripts.commands import pool_commands
from scripts.run import metrics_port


def test_each_pool_takes_the_next_port_and_nothing_else_takes_one():
    commands = {**pool_commands(2, network_processes=2), "beat": [], "api": []}
    settings = Settings(WORKER_METRICS_PORT=9300)
    ports = {name: metrics_port(settings, name, commands) for name in commands}
    assert ports == {
        "worker-local": {"WORKER_METRICS_PORT": "9300"},
        "worker-network-1": {"WORKER_METRICS_PORT": "9301"},
        "worker-network-2": {"WORKER_METRICS_PORT": "9302"},
        "beat": {},
        "api": {},
    }
    off = Settings(WORKER_METRICS_PORT=0)
    assert all(metrics_port(off, name, commands) == {} for name in commands)
