"""What a cluster carries, measured on this machine: throughput by worker process count, and
the costs per unit that size a cluster.

- curve: 1, 2 and 4 network-pool processes (threads, as `make run` starts them:
  scripts/commands.py pool_commands) against the simulator at 300 ms a call, with jobs of 10
  cloud blocks kept waiting for them; then 1, 2 and 4 local (Piper) prefork processes on jobs
  of 10 Piper blocks. Each: blocks completed a second over a steady window, the workers' CPU
  a block, the API's CPU a submit and Redis's own CPU a block;
- costs: the API's CPU a submit and Redis's memory a queued job (200 jobs of 10 blocks that
  wait: no worker runs), and the bytes stored a second of audio in the default format.

The machine has few cores (`cores` in the figures): past them, more processes add nothing, and
the simulator, Redis, the API and this process share the same cores as the workers.
"""

from __future__ import annotations

import json
import time

import httpx

from bench.service_bench import _epoch, _job
from bench.stack import Stack, cpu_seconds, tree_cpu_seconds
from scripts.commands import NETWORK_POOL_THREADS, pool_commands
from utils.cpus import usable_cpus
from utils.names import block_key, job_key

LATENCY_MS = 300
ACCOUNT_LIMIT = 200  # above what the processes can keep in flight: the account never binds
BLOCKS = 10  # a job's blocks
FORMAT = "mp3_24000_64"  # the default output format (config.DEFAULT_OUTPUT_FORMAT)


def _redis_cpu_s(stack: Stack) -> float:
    """Redis's own CPU (INFO cpu), every thread of it."""
    info = stack.client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def _start(stack: Stack, commands: dict[str, list[str]]) -> dict[str, int]:
    """Start the pools of `commands` together; their process ids once all are ready."""
    logs, pids = {}, {}
    for name, command in commands.items():
        logs[name] = stack.dir / f"{name}.log"
        process = stack._spawn(command + ["--without-mingle", "--without-gossip"], f"{name}.log")
        pids[name] = process.pid
    for log in logs.values():
        stack._wait_for(lambda log=log: b" ready." in log.read_bytes())
    return pids


class _Load:
    """Jobs kept waiting for the workers: each one that finishes is replaced at once."""

    def __init__(self, stack: Stack, http: httpx.Client, job, outstanding: int):
        self.stack, self.http, self.job, self.outstanding = stack, http, job, outstanding
        self.submitted: list[str] = []
        self.pending: list[str] = []

    def top_up(self) -> None:
        statuses = self.stack.client.pipeline(transaction=False)
        for job_id in self.pending:
            statuses.hget(job_key(job_id), "status")
        self.pending = [
            job_id
            for job_id, status in zip(self.pending, statuses.execute(), strict=True)
            if status not in ("completed", "failed")
        ]
        while len(self.pending) < self.outstanding:
            answer = self.http.post("/tts", json=self.job(len(self.submitted)))
            answer.raise_for_status()
            self.submitted.append(answer.json()["job_id"])
            self.pending.append(self.submitted[-1])

    def blocks_done_between(self, start: float, end: float) -> int:
        finished = self.stack.client.pipeline(transaction=False)
        for job_id in self.submitted:
            for i in range(BLOCKS):
                finished.hget(block_key(job_id, i), "finished_at")
        return sum(1 for at in finished.execute() if at and start <= _epoch(at) < end)


def _steady(
    stack: Stack, job, outstanding: int, workers: list[int], warm_s: float, seconds: float
) -> dict:
    api_pid = stack.processes[-1].pid
    with stack.http() as http:
        load = _Load(stack, http, job, outstanding)
        started = time.monotonic()
        while time.monotonic() - started < warm_s:  # the backlog built, the pools busy
            load.top_up()
            time.sleep(0.2)
        submits, start = len(load.submitted), time.time()
        worker_cpu = sum(tree_cpu_seconds(pid) for pid in workers)
        api_cpu, redis_cpu = cpu_seconds(api_pid), _redis_cpu_s(stack)
        machine_cpu = tree_cpu_seconds()
        while time.time() - start < seconds:
            load.top_up()
            time.sleep(0.2)
        end = time.time()
        worker_cpu = sum(tree_cpu_seconds(pid) for pid in workers) - worker_cpu
        api_cpu, redis_cpu = cpu_seconds(api_pid) - api_cpu, _redis_cpu_s(stack) - redis_cpu
        machine_cpu = tree_cpu_seconds() - machine_cpu
        submits = len(load.submitted) - submits
    blocks = load.blocks_done_between(start, end)
    per_block = max(blocks, 1)
    return {
        "blocks_per_s": round(blocks / (end - start), 1),
        "blocks": blocks,
        "seconds": round(end - start, 1),
        "worker_cpu_ms_per_block": round(worker_cpu * 1000 / per_block, 1),
        "worker_cores_busy": round(worker_cpu / (end - start), 2),
        "submits": submits,
        "api_cpu_ms_per_submit": round(api_cpu * 1000 / max(submits, 1), 2),
        "redis_cpu_ms_per_block": round(redis_cpu * 1000 / per_block, 3),
        # this process and all below it (workers, API, Redis, the simulator's thread) as a
        # share of the machine's cores over the window
        "machine_cpu_share": round(machine_cpu / ((end - start) * usable_cpus()), 2),
        "_jobs": load.submitted,
    }


def cloud_point(processes: int, seconds: float, warm_s: float = 3.0) -> dict:
    with Stack(account_limit=ACCOUNT_LIMIT) as stack:
        stack.simulator.knobs(latency_ms=LATENCY_MS)
        commands = pool_commands(1, NETWORK_POOL_THREADS * processes, processes)
        del commands["worker-local"]  # cloud blocks only: the network pool does all of it
        pids = _start(stack, commands)
        stack.start_api()

        def job(n: int) -> dict:
            return {**_job(BLOCKS, "cloud", f"c{processes}j{n}-"), "output_format": FORMAT}

        point = _steady(stack, job, 40, list(pids.values()), warm_s, seconds)
    point.pop("_jobs")
    return {"processes": processes, "threads_per_process": NETWORK_POOL_THREADS, **point}


def piper_point(processes: int, seconds: float, warm_s: float = 4.0) -> tuple[dict, dict]:
    """Blocks a second on `processes` Piper processes (one prefork worker, as `make run`
    starts the local pool), beside one network process for the jobs' control work; and the
    stored size and duration of one finished job."""
    with Stack() as stack:
        commands = pool_commands(processes, NETWORK_POOL_THREADS, 1)
        pids = _start(stack, commands)
        stack.start_api()

        def job(n: int) -> dict:
            return {**_job(BLOCKS, tag=f"p{processes}j{n}-"), "output_format": FORMAT}

        point = _steady(stack, job, 2 * processes + 2, [pids["worker-local"]], warm_s, seconds)
        stored = _stored(stack, point.pop("_jobs"))
    return {"processes": processes, **point}, stored


def _stored(stack: Stack, jobs: list[str]) -> dict:
    """Size and duration of the first job's final file, read through the API."""
    job_id = jobs[0]
    assert stack.wait_done(job_id, timeout_s=60) == "completed", job_id
    with stack.http() as http:
        size = len(http.get(f"/result/{job_id}/audio").raise_for_status().content)
    duration_s = int(stack.client.hget(job_key(job_id), "duration_ms")) / 1000
    return {"bytes": size, "audio_s": duration_s}


def queued_costs(jobs: int = 200) -> dict:
    """`jobs` jobs of 10 cloud blocks submitted with no worker running: the API's CPU a submit,
    Redis's memory a waiting job."""
    with Stack(account_limit=ACCOUNT_LIMIT) as stack:
        stack.start_api()
        api_pid = stack.processes[-1].pid
        with stack.http() as http:
            for n in range(5):  # the API's first requests warm its imports and connections
                http.post("/tts", json=_job(BLOCKS, "cloud", f"warm{n}-")).raise_for_status()
            memory, cpu = stack.client.info("memory")["used_memory"], cpu_seconds(api_pid)
            started = time.perf_counter()
            for n in range(jobs):
                http.post("/tts", json=_job(BLOCKS, "cloud", f"q{n}-")).raise_for_status()
            seconds = time.perf_counter() - started
            cpu = cpu_seconds(api_pid) - cpu
            memory = stack.client.info("memory")["used_memory"] - memory
    return {
        "jobs": jobs,
        "blocks_per_job": BLOCKS,
        "api_cpu_ms_per_submit": round(cpu * 1000 / jobs, 2),
        "submit_ms_one_client": round(seconds * 1000 / jobs, 2),
        "redis_bytes_per_queued_job": round(memory / jobs),
        "redis_bytes_per_queued_block": round(memory / jobs / BLOCKS),
    }


def _bend(curve: list[dict]) -> int:
    """The process count past which doubling gains less than a quarter more blocks a second."""
    for before, after in zip(curve, curve[1:], strict=False):
        if after["blocks_per_s"] < 1.25 * before["blocks_per_s"]:
            return before["processes"]
    return curve[-1]["processes"]


def run(counts: tuple[int, ...] = (1, 2, 4), seconds: float = 15.0) -> dict:
    cloud = [cloud_point(n, seconds) for n in counts]
    piper, stored = [], {}
    for n in counts:
        point, stored = piper_point(n, seconds)
        piper.append(point)
    queued = queued_costs()
    best = max(cloud, key=lambda point: point["blocks_per_s"])
    return {
        "cores": usable_cpus(),
        "upstream_latency_ms": LATENCY_MS,
        "account_limit": ACCOUNT_LIMIT,
        "blocks_per_job": BLOCKS,
        "audio_cache": False,
        "cloud": {"curve": cloud, "bends_after_processes": _bend(cloud)},
        "piper": {"curve": piper, "bends_after_processes": _bend(piper)},
        # the per-unit costs (bench/cluster_model.py reads them here)
        "api_cpu_ms_per_submit": queued["api_cpu_ms_per_submit"],
        "api_cpu_ms_per_submit_under_load": best["api_cpu_ms_per_submit"],
        "redis_cpu_ms_per_cloud_block": best["redis_cpu_ms_per_block"],
        "network_cpu_ms_per_cloud_block": best["worker_cpu_ms_per_block"],
        "redis_bytes_per_queued_job": queued["redis_bytes_per_queued_job"],
        "stored_format": FORMAT,
        "stored_bytes_per_audio_s": round(stored["bytes"] / stored["audio_s"]),
        "queued": queued,
        "stored_sample": stored,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
