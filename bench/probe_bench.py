"""How long a /live probe waits while the heaviest requests anyone may send are served.

No request, whatever it holds, may delay another's answer by more than about 100 ms: CPU work
of a request runs off the event loop (sync routes in the thread pool, parsing bounded), so a
probe waits on the loop only for its turn. Side by side in one run: the probe alone, then the
probe while clients send the worst bodies found (a 2 MB document of SSML tags, long numbers to
say, the largest job, JSON nested 100,000 deep, bodies that are not UTF-8) as fast as they are
answered."""

from __future__ import annotations

import json
import threading
import time

import httpx

from bench.stack import Stack

SENDERS = 4


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


def _probe(url: str, until: float) -> list[float]:
    waits = []
    with httpx.Client(base_url=url, timeout=30) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            client.get("/live").raise_for_status()
            waits.append(time.perf_counter() - started)
            time.sleep(0.02)
    return sorted(waits)


def _send(stack: Stack, bodies, until: float, statuses: dict, lock: threading.Lock) -> None:
    with stack.http() as client:
        i = 0
        while time.monotonic() < until:
            name, body = bodies[i % len(bodies)]
            i += 1
            answer = client.post("/tts", content=body, headers={"Content-Type": "application/json"})
            with lock:
                statuses.setdefault(name, {}).setdefault(answer.status_code, 0)
                statuses[name][answer.status_code] += 1


def _figures(waits: list[float]) -> dict:
    return {
        "probes": len(waits),
        "p50_ms": round(waits[len(waits) // 2] * 1000, 1),
        "p99_ms": round(waits[int(len(waits) * 0.99)] * 1000, 1),
        "max_ms": round(waits[-1] * 1000, 1),
    }


def run(seconds: float = 15.0) -> dict:
    bodies = _hostile_bodies()
    with Stack() as stack:
        stack.start_api(workers=1)
        alone = _probe(stack.api_url, time.monotonic() + seconds / 3)
        statuses: dict = {}
        lock = threading.Lock()
        until = time.monotonic() + seconds
        senders = [
            threading.Thread(target=_send, args=(stack, bodies, until, statuses, lock))
            for _ in range(SENDERS)
        ]
        for sender in senders:
            sender.start()
        loaded = _probe(stack.api_url, until)
        for sender in senders:
            sender.join()
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
        f"/live under hostile load ({r['senders']} senders of the worst bodies): p99 "
        f"{loaded['p99_ms']} ms, max {loaded['max_ms']} ms ({met} <=100 ms); alone p99 "
        f"{alone['p99_ms']} ms, max {alone['max_ms']} ms; no answer was a 5xx"
    )


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
