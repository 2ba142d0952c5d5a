"""What a block costs: its pool's CPU, Redis's CPU and commands, broker messages, stored bytes.

Jobs of cloud blocks (on the network pool, against the simulator) by the path their audio takes
(stored as it came, decoded and encoded, resampled too) and of Piper blocks (the local pool),
through the process layout `make run` starts. CPU is read from /proc for the pool's processes
and from Redis's INFO; commands with MONITOR (the stack's one Redis is the broker and the job
state, as in `make run`), less the polls the benchmark itself makes. docs/performance.md
builds its model of a cluster from these figures (bench/cluster_model.py).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import redis

from bench.service_bench import _job
from bench.stack import Stack, tree_cpu_seconds
from utils.names import job_key

LATENCY_MS = 300


class CommandWatch:
    """Commands the service's clients send to Redis, read with MONITOR: each script call is one
    (the commands a script runs inside Redis are counted apart, as `in_scripts`)."""

    def __init__(self, url: str):
        self._connection = redis.Redis.from_url(url, decode_responses=True)
        self.sent: Counter[str] = Counter()
        self.in_scripts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> CommandWatch:
        self._thread.start()
        time.sleep(0.2)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._connection.ping()  # a command to wake the reader
        self._thread.join(5)

    def _watch(self) -> None:
        with self._connection.monitor() as monitor:
            for command in monitor.listen():
                if self._stop.is_set():
                    return
                if command.get("client_type") == "lua":
                    self.in_scripts += 1
                else:
                    self.sent[command["command"].split(" ", 1)[0].lower()] += 1


def _bytes(stack: Stack) -> tuple[int, int]:
    info = stack.client.info("stats")
    return info["total_net_input_bytes"], info["total_net_output_bytes"]


def block_cost(output_format: str, blocks: int = 40, provider: str | None = "cloud") -> dict:
    """CPU and Redis work per block of one pool: a job of `blocks` cloud blocks (the network
    pool), or of Piper blocks (`provider` None: the local pool). Two jobs: one watched with
    MONITOR for the commands, one not, for the CPU (MONITOR costs Redis CPU of its own)."""
    with Stack(account_limit=blocks) as stack:
        pids = stack.start_pools()
        pool = "worker-network" if provider else "worker-local"
        workers = [pid for name, pid in pids.items() if name.startswith(pool)]
        stack.start_api()
        with stack.http() as http:
            stack.simulator.knobs(latency_ms=LATENCY_MS)

            def submit(tag: str, n: int) -> str:
                job = {**_job(n, provider, tag), "output_format": output_format}
                return http.post("/tts", json=job).json()["job_id"]

            stack.wait_done(submit("warm", 4))
            time.sleep(0.5)  # the warm job's combine and metrics settle
            with CommandWatch(stack.redis.url) as watch:
                polls = _wait(stack, submit("counted", blocks))
            time.sleep(0.5)
            cpu_before, redis_before = sum(map(tree_cpu_seconds, workers)), _redis_cpu(stack)
            bytes_before = _bytes(stack)
            job_id = submit("cost", blocks)
            _wait(stack, job_id)
            cpu_s = sum(map(tree_cpu_seconds, workers)) - cpu_before
            redis_s, bytes_after = _redis_cpu(stack) - redis_before, _bytes(stack)
            final = http.get(f"/result/{job_id}/audio").content
            duration_s = int(stack.client.hget(job_key(job_id), "duration_ms")) / 1000
    sent = watch.sent
    sent["hget"] -= polls  # the benchmark's own polls
    sent = +sent
    return {
        "output_format": output_format,
        "pool": "network" if provider else "local",
        "blocks": blocks,
        "audio_seconds_per_block": round(duration_s / blocks, 2),
        "worker_cpu_ms_per_block": round(cpu_s * 1000 / blocks, 2),
        "redis_cpu_ms_per_block": round(redis_s * 1000 / blocks, 3),
        "redis_commands_per_block": round(sum(sent.values()) / blocks, 1),
        "redis_commands_in_scripts_per_block": round(watch.in_scripts / blocks, 1),
        "broker_messages_per_block": round(sent["lpush"] / blocks, 2),
        "redis_bytes_in_per_block": round((bytes_after[0] - bytes_before[0]) / blocks),
        "redis_bytes_out_per_block": round((bytes_after[1] - bytes_before[1]) / blocks),
        "stored_bytes_per_audio_second": round(len(final) / duration_s),
        "redis_commands_by_name": dict(sent.most_common()),
    }


def _redis_cpu(stack: Stack) -> float:
    info = stack.client.info("cpu")
    return info["used_cpu_user"] + info["used_cpu_sys"]


def _wait(stack: Stack, job_id: str) -> int:
    polls = 0
    while True:
        polls += 1
        if stack.client.hget(job_key(job_id), "status") in ("completed", "failed"):
            return polls
        time.sleep(0.1)


# Commands per block sent to Redis before blocks were finished in one script and read in one
# (counted the same way on this service as it was): the target is at most half of it.
COMMANDS_BEFORE = 41.0


def run() -> dict:
    return {
        # the provider's MP3 is the job's (24 kHz, 64 kbps): stored as it came
        "passthrough": block_cost("mp3_24000_64"),
        # the job's bitrate is not the provider's: its PCM encoded (LAME) at the job's
        "decoded": block_cost("mp3_24000_48"),
        # and resampled to 44.1 kHz first
        "resampled": block_cost("mp3_44100_128"),
        "piper": block_cost("mp3_24000_64", provider=None),
        "commands_before": COMMANDS_BEFORE,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
