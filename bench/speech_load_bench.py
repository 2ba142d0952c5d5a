"""The speech endpoint under load: is every request served its first byte soon?

- burst: 100 POST /v1/audio/speech at once on the cloud account (the simulator at 300 ms a
  call), each a few sentences: time to each response's first and last audio byte;
- piper: four 3,000-character requests at once on the local provider, against one alone.

The process layout is `make run`'s (bench/stack.py start_pools). The clients run in a process
of their own over raw sockets (connected first, then every request written at once), so
neither the simulator's thread in this process nor an HTTP library's CPU holds them back.
The audio cache is off and every text differs, so no request is made cheaper by another.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor

import httpx

from bench.service_bench import SENTENCES
from bench.stack import Stack, cpu_seconds, tree_cpu_seconds
from utils.cpus import usable_cpus

LATENCY_MS = 300

SUBJECTS = [
    "The committee",
    "Our neighbour",
    "A young engineer",
    "The old captain",
    "My sister",
    "The museum guide",
    "A delivery driver",
    "The new teacher",
    "The baker on the corner",
    "A tired journalist",
]
ACTIONS = [
    "reviewed the quarterly budget",
    "opened a bundle of old letters",
    "repaired the garden fence",
    "explained the basics of fractions",
    "caught the early train to the coast",
    "painted the kitchen a pale green",
    "counted the boats in the bay",
    "wrote a long report about the bridge",
    "planted tomatoes and beans",
    "found a lost dog by the river",
]
PLACES = [
    "in the northern valley",
    "at the harbour",
    "near platform nine",
    "behind the public library",
    "on the top floor",
    "beside the old mill",
    "at the edge of town",
    "in a quiet side street",
]
TIMES = [
    "on Tuesday morning",
    "late in the afternoon",
    "before the storm arrived",
    "after a very long week",
    "while the kettle boiled",
    "just as the sun came out",
    "during the school holidays",
    "for the third time this year",
]


def varied_text(chars: int, seed: int) -> str:
    """About `chars` characters of English sentences, different for each `seed`."""
    rng = random.Random(seed)
    text = ""
    while True:
        if rng.random() < 0.2:
            sentence = rng.choice(SENTENCES)
        else:
            parts = (rng.choice(SUBJECTS), rng.choice(ACTIONS), rng.choice(PLACES))
            sentence = f"{' '.join(parts)} {rng.choice(TIMES)}."
        if text and len(text) + 1 + len(sentence) > chars:
            return text
        text = f"{text} {sentence}".strip()


def _request(host: str, port: int, token: str, body: dict) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST /v1/audio/speech HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def _one(host: str, port: int, request: bytes, go: asyncio.Event) -> dict:
    reader, writer = await asyncio.open_connection(host, port)
    await go.wait()
    sent = time.perf_counter()
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
    fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
    first, size, whole, body = None, 0, True, b""
    try:
        if fields.get(b"transfer-encoding") == b"chunked":
            while length := int((await reader.readline()).split(b";")[0] or b"x", 16):
                await reader.readexactly(length + 2)  # the chunk and its CRLF
                first = first or time.perf_counter() - sent
                size += length
            await reader.readline()
        elif length := int(fields.get(b"content-length", 0)):
            body = await reader.readexactly(length)
            first, size = time.perf_counter() - sent, length
    except (ValueError, asyncio.IncompleteReadError, ConnectionError):
        whole = False  # the server ended the response before its last chunk
    done = time.perf_counter() - sent
    writer.close()
    return {
        "status": status,
        "whole": whole,
        "first_byte_s": first if status == 200 else None,
        "last_byte_s": done,
        "bytes": size if status == 200 else 0,
        "sent": sent,
        "error": body[:300].decode(errors="replace") if status != 200 else None,
    }


async def _all(host: str, port: int, requests: list[bytes], timeout_s: float) -> list[dict]:
    go = asyncio.Event()
    tasks = [asyncio.create_task(_one(host, port, r, go)) for r in requests]
    await asyncio.sleep(0.5)  # every connection open before any request is written
    go.set()
    return await asyncio.wait_for(asyncio.gather(*tasks), timeout_s)


def _client_process(
    host: str, port: int, requests: list[bytes], timeout_s: float
) -> tuple[list[dict], float]:
    """In a process of its own: every request at once; their timings and this CPU time."""
    cpu = time.process_time()
    answers = asyncio.run(_all(host, port, requests, timeout_s))
    return answers, time.process_time() - cpu


def _send_all(stack: Stack, bodies: list[dict], timeout_s: float = 300) -> tuple[list, float]:
    url = httpx.URL(stack.api_url)
    requests = [_request(url.host, url.port, stack.token, body) for body in bodies]
    spawn = multiprocessing.get_context("spawn")  # no copy of this process's threads
    with ProcessPoolExecutor(1, mp_context=spawn) as clients:
        clients.submit(time.sleep, 0).result()  # the process started and imported
        answers, client_cpu = clients.submit(
            _client_process, url.host, url.port, requests, timeout_s
        ).result()
    return answers, client_cpu


def _at(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)


def _body(model: str, text: str, response_format: str) -> dict:
    return {"model": model, "voice": "alloy", "input": text, "response_format": response_format}


def burst(stack: Stack, network: list[int], api_pid: int, requests: int, chars: int) -> dict:
    """`requests` speech requests at once on the cloud account (limit: `requests`)."""
    bodies = [_body("cloud", varied_text(chars, 1000 + i), "mp3") for i in range(requests)]
    stack.simulator.knobs(latency_ms=LATENCY_MS)
    _send_all(stack, [_body("cloud", varied_text(chars, 1), "mp3")])  # warm
    stack.simulator.reset()
    stack.simulator.knobs(latency_ms=LATENCY_MS)
    api_before, network_before = cpu_seconds(api_pid), sum(cpu_seconds(p) for p in network)
    machine_before, started = tree_cpu_seconds(), time.perf_counter()
    answers, client_cpu = _send_all(stack, bodies)
    wall = time.perf_counter() - started
    api_cpu = cpu_seconds(api_pid) - api_before
    network_cpu = sum(cpu_seconds(p) for p in network) - network_before
    machine_cpu = tree_cpu_seconds() - machine_before
    stats = stack.simulator.stats()
    ok = [a for a in answers if a["status"] == 200 and a["first_byte_s"] is not None]
    served = [a for a in ok if a["whole"]]
    first = [a["first_byte_s"] for a in ok] or [float("nan")]
    last = [a["last_byte_s"] for a in served] or [float("nan")]
    sends = [a["sent"] for a in answers]
    statuses: dict[str, int] = {}
    for answer in answers:
        statuses[str(answer["status"])] = statuses.get(str(answer["status"]), 0) + 1
    return {
        "requests": requests,
        "input_chars_mean": round(sum(len(b["input"]) for b in bodies) / requests),
        "upstream_latency_ms": LATENCY_MS,
        "account_limit": requests,
        "failed": requests - len(served),
        # answered 200 and some audio, then the stream ended before its end
        "cut_short": len(ok) - len(served),
        "statuses": statuses,
        "an_error": next((a["error"] for a in answers if a["error"]), None),
        "first_byte_s": {
            "p50": _at(first, 0.5),
            "p90": _at(first, 0.9),
            "max": round(max(first), 3),
        },
        "first_byte_within_0_6_s": sum(f <= 0.6 for f in first),
        "last_byte_s": {"p50": _at(last, 0.5), "max": round(max(last), 3)},
        "sends_spread_ms": round((max(sends) - min(sends)) * 1000, 1),
        "upstream_calls": stats["tts_requests"],
        "upstream_peak_in_flight": stats["peak_in_flight"],
        "wall_s": round(wall, 2),
        "api_cpu_s": round(api_cpu, 2),
        "api_cpu_ms_per_request": round(api_cpu * 1000 / requests, 1),
        "network_cpu_s": round(network_cpu, 2),
        "client_cpu_s": round(client_cpu, 2),
        # everything under this process (workers, API, Redis, the simulator's thread) as a
        # share of the machine's cores over the burst
        "machine_cpu_share": round(machine_cpu / (wall * usable_cpus()), 2),
    }


def piper_four(stack: Stack, chars: int, response_format: str = "mp3") -> dict:
    _send_all(stack, [_body("piper", "Warming up the local pool.", response_format)])
    (alone,), _ = _send_all(stack, [_body("piper", varied_text(chars, 50), response_format)])
    bodies = [_body("piper", varied_text(chars, 60 + i), response_format) for i in range(4)]
    four, _ = _send_all(stack, bodies)
    assert all(a["status"] == 200 and a["whole"] for a in [alone, *four]), [alone, *four]
    # all four done: from the first request written to the last byte of the last one
    wall = max(a["sent"] + a["last_byte_s"] for a in four) - min(a["sent"] for a in four)
    return {
        "input_chars": [len(b["input"]) for b in bodies],
        "response_format": response_format,
        "one_alone": {
            "first_byte_s": round(alone["first_byte_s"], 3),
            "total_s": round(alone["last_byte_s"], 2),
        },
        "four": {
            "first_byte_s": [round(a["first_byte_s"], 3) for a in four],
            "first_byte_max_s": round(max(a["first_byte_s"] for a in four), 3),
            "total_s": [round(a["last_byte_s"], 2) for a in four],
            "wall_s": round(wall, 2),
        },
        "ratio_wall_to_one_alone": round(wall / alone["last_byte_s"], 2),
    }


def run(requests: int = 100, chars: int = 300, long_chars: int = 3000) -> dict:
    # one user sends every request: its cap on open streams (default 4) is raised to take them
    env = {"MAX_STREAMS_PER_USER": str(requests)}
    with Stack(account_limit=requests, env=env) as stack:
        pids = stack.start_pools()
        network = [pid for name, pid in pids.items() if name.startswith("worker-network")]
        stack.start_api()
        api_pid = stack.processes[-1].pid
        results = {
            "cores": usable_cpus(),
            "local_processes": os.cpu_count() or 2,  # as start_pools starts them
            "network_processes": len(network),
            "burst": burst(stack, network, api_pid, requests, chars),
            "piper": piper_four(stack, long_chars),
        }
    return results


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
