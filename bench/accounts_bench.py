"""Provider accounts kept busy and shared fairly, under the process layout `make run` starts
(a local pool of one process per core, a network pool of threads), against the simulator.

- utilization: requests in flight on the account while its blocks wait, against its limit;
- fairness: a small job of another user submitted behind a large one on the same account;
- network pool memory with 64 calls in flight.
"""

from __future__ import annotations

import time

from bench.service_bench import SENTENCES, _epoch, _job
from bench.stack import OTHER_USER, Stack, cpu_seconds, tree_cpu_seconds
from utils.cpus import usable_cpus
from utils.names import job_key

LATENCY_MS = 300


def _mixed_job(blocks: int, piper_every: int = 4, tag: str = "") -> dict:
    """Cloud blocks, with every `piper_every`-th block on the local provider."""
    job = _job(blocks, "cloud", tag)
    for i in range(0, blocks, piper_every):
        job["blocks"][i] = {"text": f"{SENTENCES[i % len(SENTENCES)]} {tag}{i}."}
    return job


def utilization(limit: int, blocks: int, piper_every: int | None = None) -> dict:
    with Stack(account_limit=limit) as stack:
        pids = stack.start_pools()
        network = [pid for name, pid in pids.items() if name.startswith("worker-network")]
        stack.start_api()
        with stack.http() as http:
            stack.simulator.knobs(latency_ms=LATENCY_MS)
            job_id = http.post("/tts", json=_job(4, "cloud", "warm")).json()["job_id"]
            stack.wait_done(job_id)
            stack.simulator.reset()
            stack.simulator.knobs(latency_ms=LATENCY_MS, max_in_flight=limit)  # 429 above it
            job = _mixed_job(blocks, piper_every, "u") if piper_every else _job(blocks, "cloud")
            cpu_before = sum(cpu_seconds(pid) for pid in network)
            machine_before = tree_cpu_seconds()
            started = time.time()
            job_id = http.post("/tts", json=job).json()["job_id"]
            assert stack.wait_done(job_id) == "completed"
            network_cpu_s = sum(cpu_seconds(pid) for pid in network) - cpu_before
            machine_cpu_s = tree_cpu_seconds() - machine_before
            wall_s = time.time() - started
        seconds = _epoch(stack.client.hget(job_key(job_id), "updated_at")) - started
        stats = stack.simulator.stats()
    cpu_per_block_s = network_cpu_s / stats["tts_requests"]
    return {
        "limit": limit,
        "blocks": blocks,
        "cloud_blocks": stats["tts_requests"],
        "average_in_flight": round(stats["average_in_flight"], 2),
        "handoff_ms_p50": stats["handoff_ms_p50"],
        "handoff_ms_p90": stats["handoff_ms_p90"],
        "peak_in_flight": stats["peak_in_flight"],
        "rejected_429": stats["rejected_over_limit"],
        "seconds": round(seconds, 2),
        # what keeping the account full costs the network pool: CPU per cloud block, and the
        # cores that takes at `limit` calls of LATENCY_MS each (the combine's included)
        "network_cpu_ms_per_block": round(cpu_per_block_s * 1000, 1),
        "network_cores_at_limit": round(limit / (LATENCY_MS / 1000) * cpu_per_block_s, 2),
        "cores": usable_cpus(),
        # everything the run used (workers, API, Redis, and the simulator standing in for the
        # vendor) as a share of the machine's cores over the job
        "machine_cpu_share": round(machine_cpu_s / (wall_s * usable_cpus()), 2),
    }


def fairness(limit: int = 10, backlog: int = 300, small: int = 2) -> dict:
    """A small job of one user behind another user's large job on the same account."""
    with Stack(account_limit=limit) as stack:
        stack.simulator.knobs(latency_ms=LATENCY_MS)
        stack.start_pools()
        stack.start_api()
        with stack.http() as big_user, stack.http(OTHER_USER) as small_user:
            job_id = small_user.post("/tts", json=_job(small, "cloud", "warm")).json()["job_id"]
            stack.wait_done(job_id)
            alone = _timed(stack, small_user, _job(small, "cloud", "alone"))
            big = big_user.post("/tts", json=_job(backlog, "cloud", "big")).json()["job_id"]
            time.sleep(1.0)  # the large job is being worked on and the rest of it waits
            behind = _timed(stack, small_user, _job(small, "cloud", "behind"))
            big_done = stack.client.hget(job_key(big), "status")
    return {
        "limit": limit,
        "backlog_blocks": backlog,
        "small_blocks": small,
        "small_alone_s": round(alone, 3),
        "small_behind_backlog_s": round(behind, 3),
        "target_s": round(2 * alone + LATENCY_MS / 1000, 3),
        "backlog_status_then": big_done,
    }


def _timed(stack: Stack, http, job: dict) -> float:
    started = time.time()
    job_id = http.post("/tts", json=job).json()["job_id"]
    assert stack.wait_done(job_id) == "completed"
    return _epoch(stack.client.hget(job_key(job_id), "updated_at")) - started


def network_pool_memory(in_flight: int = 64) -> dict:
    """Resident memory of the network pool's processes, idle and with `in_flight` calls open."""
    with Stack(account_limit=in_flight) as stack:
        stack.simulator.knobs(latency_ms=3000)
        pids = stack.start_pools()
        stack.start_api()
        network = [pid for name, pid in pids.items() if name.startswith("worker-network")]
        with stack.http() as http:
            job_id = http.post("/tts", json=_job(2, "cloud", "warm")).json()["job_id"]
            stack.wait_done(job_id)
            idle = sum(_rss_mb(pid) for pid in network)
            job_id = http.post("/tts", json=_job(in_flight, "cloud", "mem")).json()["job_id"]
            peak, seen = idle, 0
            while stack.client.hget(job_key(job_id), "status") not in ("completed", "failed"):
                seen = max(seen, stack.simulator.stats()["in_flight"])
                peak = max(peak, sum(_rss_mb(pid) for pid in network))
                time.sleep(0.2)
    return {
        "calls_in_flight_seen": seen,
        "idle_mb": round(idle, 1),
        "busy_mb": round(peak, 1),
        "per_call_mb": round((peak - idle) / max(seen, 1), 2),
    }


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024
