"""Benchmarks 2-5 and the cache: whole jobs through a real stack (Redis, workers, API)."""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from datetime import datetime

import httpx

from bench.combine_bench import FORMAT
from bench.raw_http import build_request, post_load
from bench.stack import Stack, cpu_seconds
from config import ProviderConfig
from utils.audio.pcm import encode_mp3, to_pcm
from utils.cpus import usable_cpus
from utils.names import block_key, job_key
from workers.providers import ProviderRegistry, SynthesisRequest

RUNS = 3  # timed runs per measurement; the median is reported

SENTENCES = [
    "The committee met on Tuesday to review the quarterly budget proposal.",
    "Rain is expected across the northern valleys by late afternoon.",
    "She opened the old wooden box and found a bundle of letters inside.",
    "Our next lesson covers the basics of fractions and decimals.",
    "The train to the coast leaves every hour from platform nine.",
]


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _job(n: int, provider: str | None = None, tag: str = "") -> dict:
    blocks = []
    for i in range(n):
        block = {"text": f"{SENTENCES[i % len(SENTENCES)]} {tag}{i}.", "wait_after_ms": 200}
        if provider:
            block.update(provider=provider, voice="alloy")
        blocks.append(block)
    return {"blocks": blocks}


def _run_job(stack: Stack, http: httpx.Client, job: dict) -> tuple[float, str]:
    """Seconds from POST to the job's own completion time (read from Redis afterwards, so
    how often we look does not add to it, and looking seldom keeps the CPU for the workers)."""
    started = time.time()
    job_id = http.post("/tts", json=job).json()["job_id"]
    status = stack.wait_done(job_id)
    assert status == "completed", f"benchmark job {job_id} {status}"
    return _epoch(stack.client.hget(job_key(job_id), "updated_at")) - started, job_id


def _combine_seconds(stack: Stack, job_id: str, n: int) -> float:
    """From the last block stored to the job completed: the combine's share of the wait."""
    last_block = max(
        _epoch(stack.client.hget(block_key(job_id, i), "finished_at")) for i in range(n)
    )
    return _epoch(stack.client.hget(job_key(job_id), "updated_at")) - last_block


def fan_out(blocks: int = 20, latency_ms: int = 300) -> dict:
    with Stack(account_limit=blocks) as stack:
        stack.simulator.knobs(latency_ms=latency_ms)
        pids = stack.start_pools()  # as `make run` starts them
        network = [pid for name, pid in pids.items() if name.startswith("worker-network")]
        stack.start_api()
        with stack.http() as http:
            _run_job(stack, http, _job(2, "cloud", "warm"))  # connections and imports warm
            cpu_before = sum(cpu_seconds(pid) for pid in network)
            # the median of three runs: this machine is shared and noisy
            runs = [_run_job(stack, http, _job(blocks, "cloud", f"r{r}-")) for r in range(RUNS)]
            cpu_per_block = (sum(cpu_seconds(pid) for pid in network) - cpu_before) / (
                RUNS * blocks
            )
        seconds, job_id = sorted(runs)[RUNS // 2]
        combine_s = _combine_seconds(stack, job_id, blocks)
        # one by one: the same provider calls, each normalized, then the same combine
        config = ProviderConfig(
            type="openai", api_key="bench-key", base_url=f"{stack.simulator.url}/v1"
        )
        provider = ProviderRegistry({"cloud": config}).get("cloud")
        started = time.perf_counter()
        for block in _job(blocks, tag="seq")["blocks"]:
            audio = provider.synthesize(SynthesisRequest(block["text"], "alloy"))
            encode_mp3(to_pcm(audio, FORMAT.sample_rate), FORMAT)
        sequential = time.perf_counter() - started + combine_s
    ideal = latency_ms / 1000 + combine_s
    # The requests go out together, so each block's CPU on the network pool (its task, its
    # request, then decoding and encoding its audio) comes before the last request or after
    # the first answer: on this machine's cores, no layout ends sooner than this.
    floor = ideal + blocks * cpu_per_block / usable_cpus()
    return {
        "blocks": blocks,
        "upstream_latency_ms": latency_ms,
        "end_to_end_s": round(seconds, 3),
        "end_to_end_runs_s": [round(r[0], 3) for r in runs],
        "ideal_s": round(ideal, 3),
        "one_by_one_s": round(sequential, 3),
        "vs_ideal": round(seconds / ideal, 2),
        "network_cpu_ms_per_block": round(cpu_per_block * 1000, 1),
        "cores": usable_cpus(),
        "cpu_floor_s": round(floor, 3),
        "floor_vs_ideal": round(floor / ideal, 2),
        "speedup_vs_one_by_one": round(sequential / seconds, 1),
    }


def local_provider(blocks: int = 20) -> dict:
    times, samples = {}, {}
    for processes in (1, 2):
        with Stack() as stack:
            stack.start_workers(processes=1, concurrency=processes, pool="prefork")
            stack.start_api()
            with stack.http() as http:
                _run_job(stack, http, _job(2 * processes, tag="warm"))
                runs = [
                    _run_job(stack, http, _job(blocks, tag=f"p{processes}r{r}-"))[0]
                    for r in range(RUNS)
                ]
                times[processes] = statistics.median(runs)
                samples[processes] = [round(r, 2) for r in runs]
    return {
        "blocks": blocks,
        "one_process_s": round(times[1], 2),
        "one_per_core_s": round(times[2], 2),
        "runs_s": {"one_process": samples[1], "one_per_core": samples[2]},
        "speedup": round(times[1] / times[2], 2),
    }


def ingest(
    clients: int = 50, seconds: float = 10.0, api_processes: int = 2, offered_rate: float = 200.0
) -> dict:
    """POST /tts with 10-block jobs from 50 clients: the most it takes (each client sends again
    on each answer), and latency when they send 200 jobs/s between them. The audio cache is on,
    as by default (one more lookup per job); rate limits are off (one user sends it all)."""
    with Stack(cache=True) as stack:
        stack.start_api(workers=api_processes)
        url = httpx.URL(stack.api_url)
        body = json.dumps(_job(10, tag="ingest")).encode()
        request = build_request(
            url.host,
            url.port,
            "/tts",
            body,
            {"Authorization": f"Bearer {stack.token}", "Content-Type": "application/json"},
        )
        asyncio.run(post_load(url.host, url.port, request, clients, 2.0))  # warm up
        started = time.perf_counter()
        saturated, statuses = asyncio.run(post_load(url.host, url.port, request, clients, seconds))
        elapsed = time.perf_counter() - started
        paced, paced_statuses = asyncio.run(
            post_load(url.host, url.port, request, clients, seconds, rate=offered_rate)
        )
    assert set(statuses) == set(paced_statuses) == {202}, (statuses, paced_statuses)
    saturated.sort()
    paced.sort()
    return {
        "clients": clients,
        "blocks_per_job": 10,
        "api_processes": api_processes,
        "max_jobs_per_second": round(len(saturated) / elapsed, 1),
        "saturated_p50_ms": round(saturated[len(saturated) // 2] * 1000, 1),
        "offered_jobs_per_second": offered_rate,
        "achieved_jobs_per_second": round(len(paced) / seconds, 1),
        "p50_ms": round(paced[len(paced) // 2] * 1000, 1),
        "p99_ms": round(paced[int(len(paced) * 0.99)] * 1000, 1),
        "mean_ms": round(statistics.fmean(paced) * 1000, 1),
    }


def streaming(blocks: int = 6) -> dict:
    with Stack() as stack:
        stack.start_workers(processes=1, concurrency=1, pool="prefork")  # blocks one after another
        stack.start_api()
        with stack.http() as http:
            _run_job(stack, http, _job(1, tag="warm"))
            job_id = http.post("/tts", json=_job(blocks, tag="stream")).json()["job_id"]
            first_byte: list[float] = []

            def listen() -> None:
                with http.stream("GET", f"/result/{job_id}/audio?stream=true") as response:
                    for _ in response.iter_bytes():
                        first_byte.append(time.time())
                        break

            thread = threading.Thread(target=listen)
            thread.start()
            stack.wait_done(job_id)
            thread.join(30)
        block0 = _epoch(stack.client.hget(block_key(job_id, 0), "finished_at"))
        completed = _epoch(stack.client.hget(job_key(job_id), "updated_at"))
    return {
        "blocks": blocks,
        "first_byte_after_block0_ms": round((first_byte[0] - block0) * 1000, 1),
        "first_byte_before_job_end_s": round(completed - first_byte[0], 2),
    }


def cache(blocks: int = 20, latency_ms: int = 300) -> dict:
    with Stack(account_limit=blocks, cache=True) as stack:
        stack.simulator.knobs(latency_ms=latency_ms)
        stack.start_pools()
        stack.start_api()
        with stack.http() as http:
            _run_job(stack, http, _job(2, "cloud", "warm"))
            job = _job(blocks, "cloud", "cache")
            first, _ = _run_job(stack, http, job)
            calls = stack.simulator.stats()["tts_requests"]
            second, _ = _run_job(stack, http, job)
            repeat_calls = stack.simulator.stats()["tts_requests"] - calls
    return {
        "blocks": blocks,
        "first_s": round(first, 3),
        "repeat_s": round(second, 3),
        "speedup": round(first / second, 1),
        "provider_calls_on_repeat": repeat_calls,
    }
