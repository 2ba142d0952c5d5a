"""A bounded load test: N clients submit jobs and poll them to the end, for D seconds.

    python -m bench.load --url http://127.0.0.1:8000 --clients 100 --duration 60

Each client loops: POST /tts, poll GET /status until the job finishes, repeat. New submissions
stop at the deadline; jobs already accepted are still followed to the end (up to --drain s).
Prints jobs accepted / completed / failed, 5xx count and submit latency percentiles.
Only for servers on this machine: it sends as fast as the server answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field

import httpx

from config import get_settings


@dataclass
class LoadResult:
    accepted: int = 0
    completed: int = 0
    failed: int = 0
    unfinished: int = 0
    rejected: dict[int, int] = field(default_factory=dict)  # status -> count, for non-202 submits
    server_errors: int = 0
    submit_latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def percentile(self, p: float) -> float:
        data = sorted(self.submit_latencies_ms)
        return data[min(len(data) - 1, int(p / 100 * len(data)))] if data else 0.0

    def summary(self) -> dict:
        return {
            "jobs_accepted": self.accepted,
            "jobs_completed": self.completed,
            "jobs_failed": self.failed,
            "jobs_unfinished": self.unfinished,
            "submits_rejected": self.rejected,
            "server_errors_5xx": self.server_errors,
            "submit_p50_ms": round(self.percentile(50), 1),
            "submit_p99_ms": round(self.percentile(99), 1),
            "submit_mean_ms": round(statistics.fmean(self.submit_latencies_ms), 1)
            if self.submit_latencies_ms
            else 0.0,
            "jobs_per_second": round(self.completed / self.seconds, 1) if self.seconds else 0.0,
        }


async def _client(
    http: httpx.AsyncClient, job: dict, deadline: float, drain_s: float, result: LoadResult
) -> None:
    while time.monotonic() < deadline:
        started = time.perf_counter()
        response = await http.post("/tts", json=job)
        result.submit_latencies_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code >= 500:
            result.server_errors += 1
        if response.status_code != 202:
            result.rejected[response.status_code] = result.rejected.get(response.status_code, 0) + 1
            await asyncio.sleep(0.1)
            continue
        result.accepted += 1
        job_id = response.json()["job_id"]
        give_up = max(deadline, time.monotonic()) + drain_s
        while True:
            status = await http.get(f"/status/{job_id}")
            if status.status_code >= 500:
                result.server_errors += 1
            elif status.json().get("status") == "completed":
                result.completed += 1
                break
            elif status.json().get("status") == "failed":
                result.failed += 1
                break
            if time.monotonic() > give_up:
                result.unfinished += 1
                break
            await asyncio.sleep(0.2)


async def run_load(
    url: str, token: str, clients: int, duration_s: float, job: dict, drain_s: float = 60.0
) -> LoadResult:
    result = LoadResult()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as http:
        started = time.monotonic()
        deadline = started + duration_s
        await asyncio.gather(
            *(_client(http, job, deadline, drain_s, result) for _ in range(clients))
        )
        result.seconds = time.monotonic() - started
    return result


def main() -> None:
    # Defaults: the service `make run` starts from this checkout, its admin from .env.
    settings = get_settings()
    password = settings.ADMIN_PASSWORD.get_secret_value() if settings.ADMIN_PASSWORD else None
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--url", default=f"http://127.0.0.1:{settings.API_PORT}")
    parser.add_argument("--username", default=settings.ADMIN_USERNAME)
    parser.add_argument("--password", default=password, required=password is None)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--provider", default=None)
    args = parser.parse_args()
    token = httpx.post(
        f"{args.url}/token", data={"username": args.username, "password": args.password}
    ).json()
    block = {"text": "A short load test sentence.", "wait_after_ms": 100}
    if args.provider:
        block["provider"] = args.provider
    job = {"blocks": [block, block]}
    result = asyncio.run(
        run_load(args.url, token["access_token"], args.clients, args.duration, job)
    )
    print(json.dumps(result.summary(), indent=2))


if __name__ == "__main__":
    main()
