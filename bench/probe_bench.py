"""How long a /live probe waits while the heaviest requests anyone may send are served.

No request, whatever it holds, may delay another's answer by more than about 100 ms: CPU work
of a request runs off the event loop (sync routes in the thread pool, parsing bounded), so a
probe waits on the loop only for its turn. Side by side in one run: the probe alone, then the
probe while a client sends the worst bodies found (a 2 MB document of SSML tags, long numbers
to say, the largest job, JSON nested 100,000 deep, bodies that are not UTF-8) back to back, each
as soon as the one before is answered (rate limits off: one user's limit would space them out).

What kept the loop waiting, and what mends it (api/main.py): the collector's full passes over
everything start-up built (gc.freeze() after start-up), and the GIL handed back to the loop only
every 5 ms (1 ms now)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import httpx

from bench.raw_http import build_request, read_response
from bench.stack import Stack

SENDERS = 1


def _hostile_bodies() -> list[tuple[str, bytes]]:
    tags = "<speak>" + "a <break time='1ms'/>" * (1_900_000 // 22) + "</speak>"
    numbers = (
        "<speak>"
        + "<say-as interpret-as='cardinal'>9{}</say-as> ".format("9" * 35) * (1_900_000 // 70)
        + "</speak>"
    )
    largest = {"blocks": [{"text": "Word " * 999, "wait_after_ms": 10} for _ in range(200)]}
    return [
        ("ssml_tags", json.dumps({"ssml": tags}).encode()),
        ("say_as_numbers", json.dumps({"ssml": numbers[:1_950_000] + "</speak>"}).encode()),
        ("largest_job", json.dumps(largest).encode()),
        ("nested_json", b"[" * 100_000 + b"]" * 100_000),
        ("not_utf8", b'{"blocks": [{"text": "caf\xe9"}]}' * 1000),
    ]


def _get(host: str, port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: keep-alive\r\n\r\n".encode()


async def _probe(host: str, port: int, until: float) -> list[float]:
    """A /live probe every 20 ms on a connection of its own; each one's wait (s)."""
    reader, writer = await asyncio.open_connection(host, port)
    waits, request = [], _get(host, port, "/live")
    try:
        while time.monotonic() < until:
            started = time.perf_counter()
            writer.write(request)
            assert await read_response(reader) == 200
            waits.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
    finally:
        writer.close()
    return sorted(waits)


async def _send(host, port, requests, until: float, statuses: dict) -> None:
    """The hostile bodies in turn, each sent as soon as the one before is answered."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for i in itertools.count():
            if time.monotonic() >= until:
                return
            name, request = requests[i % len(requests)]
            writer.write(request)
            codes = statuses.setdefault(name, {})
            code = await read_response(reader)
            codes[code] = codes.get(code, 0) + 1
    finally:
        writer.close()


async def _measure(host: str, port: int, requests, seconds: float) -> tuple[list, list, dict]:
    alone = await _probe(host, port, time.monotonic() + seconds / 3)
    statuses: dict = {}
    until = time.monotonic() + seconds
    senders = [_send(host, port, requests, until, statuses) for _ in range(SENDERS)]
    loaded, *_ = await asyncio.gather(_probe(host, port, until), *senders)
    return alone, loaded, statuses


def _figures(waits: list[float]) -> dict:
    return {
        "probes": len(waits),
        "p50_ms": round(waits[len(waits) // 2] * 1000, 1),
        "p99_ms": round(waits[int(len(waits) * 0.99)] * 1000, 1),
        "max_ms": round(waits[-1] * 1000, 1),
    }


def run(seconds: float = 15.0) -> dict:
    """Clients and probe on one asyncio loop sending prebuilt bytes (bench/raw_http.py), so
    the benchmark's own CPU (and GIL) stays out of the figures."""
    with Stack() as stack:
        stack.start_api(workers=1)
        url = httpx.URL(stack.api_url)
        headers = {"Authorization": f"Bearer {stack.token}", "Content-Type": "application/json"}
        requests = [
            (name, build_request(url.host, url.port, "/tts", body, headers))
            for name, body in _hostile_bodies()
        ]
        alone, loaded, statuses = asyncio.run(_measure(url.host, url.port, requests, seconds))
    served = {
        name: {str(k): v for k, v in sorted(codes.items())} for name, codes in statuses.items()
    }
    assert not any(code >= 500 for codes in statuses.values() for code in codes), served
    return {
        "senders": SENDERS,
        "alone": _figures(alone),
        "under_hostile_load": _figures(loaded),
        "hostile_answers": served,
        "max_ratio": round(loaded[-1] / alone[-1], 1),
    }


def summary(r: dict) -> str:
    alone, loaded = r["alone"], r["under_hostile_load"]
    met = "met" if loaded["max_ms"] <= 100 else "MISSED"
    return (
        f"/live beside the worst bodies sent back to back: p99 "
        f"{loaded['p99_ms']} ms, max {loaded['max_ms']} ms ({met} <=100 ms); alone p99 "
        f"{alone['p99_ms']} ms, max {alone['max_ms']} ms; no answer was a 5xx"
    )


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
