"""What a cluster carries, worked out from one run's per-unit costs: the section of
docs/performance.md that the figures of `cost` (bench/cost_bench.py), `scaling`
(bench/scaling_bench.py) and `ingest` (bench/service_bench.py) make.

Each ceiling is a cost turned round: a core spent at `c` ms a unit does 1000 / c units a
second. The figures are this machine's (two cores, shared): a bigger core moves every line by
the same factor, so the ratios between them, and which part is the limit first, hold.
"""

from __future__ import annotations

SECONDS_A_DAY = 86_400
# Seed 003 plans for "millions of requests per day": five million taken here, a tenth of them
# in the busiest hour.
PLANNED_REQUESTS_A_DAY = 5_000_000
PEAK_HOUR_SHARE = 0.1


def _per_second(ms: float | None) -> float | None:
    return 1000 / ms if ms else None


def rows(results: dict) -> list[tuple[str, str, str]]:
    """(what, figure, what it means) for each line the run's figures allow."""
    cost, scaling = results.get("cost") or {}, results.get("scaling") or {}
    out: list[tuple[str, str, str]] = []
    cloud, piper = cost.get("passthrough") or {}, cost.get("piper") or {}
    for name, unit in (
        ("passthrough", "a cloud block stored as it came"),
        ("decoded", "a cloud block encoded at the job's bitrate"),
        ("resampled", "a cloud block resampled and encoded"),
        ("piper", "a Piper block"),
    ):
        if c := cost.get(name):
            ms = c["worker_cpu_ms_per_block"]
            out.append(
                (
                    f"Worker CPU, {unit}",
                    f"{ms} ms ({c['audio_seconds_per_block']} s of audio)",
                    f"{_per_second(ms):.0f} blocks/s per core of its pool",
                )
            )
    if cloud:
        redis_ms = cloud["redis_cpu_ms_per_block"]
        out += [
            (
                "Redis, a cloud block",
                f"{cloud['redis_commands_per_block']} commands sent "
                f"({cloud['redis_commands_in_scripts_per_block']} more run inside scripts), "
                f"{redis_ms} ms of Redis CPU, {cloud['redis_bytes_in_per_block']} bytes in and "
                f"{cloud['redis_bytes_out_per_block']} out",
                f"{_per_second(redis_ms):.0f} blocks/s per Redis core",
            ),
            (
                "Broker messages",
                f"{cloud['broker_messages_per_block']} a block (the job's own message and its "
                "combine shared out)",
                "a block handed a freed slot in its own process sends none",
            ),
            (
                "Stored audio",
                f"{cloud['stored_bytes_per_audio_second']} bytes per second of audio "
                f"({cloud['output_format']})",
                f"{cloud['stored_bytes_per_audio_second'] * 3600 / 1e6:.1f} MB an hour of audio",
            ),
        ]
    if piper:
        out.append(
            (
                "Redis, a Piper block",
                f"{piper['redis_commands_per_block']} commands, "
                f"{piper['redis_cpu_ms_per_block']} ms of Redis CPU",
                f"{_per_second(piper['redis_cpu_ms_per_block']):.0f} blocks/s per Redis core",
            )
        )
    if api_ms := scaling.get("api_cpu_ms_per_submit"):
        out.append(
            (
                "API, a submit",
                f"{api_ms} ms of CPU (a 10-block job)",
                f"{_per_second(api_ms):.0f} jobs/s per API core",
            )
        )
    if memory := scaling.get("redis_bytes_per_queued_job"):
        out.append(
            (
                "Redis memory, a waiting job",
                f"{memory} bytes (10 blocks)",
                f"{1e9 / memory / 1e6:.2f} million waiting jobs per GB",
            )
        )
    out += _limits(cloud, scaling)
    return out


def _limits(cloud: dict, scaling: dict) -> list[tuple[str, str, str]]:
    """Where one Redis is the limit, against seed 003's plan."""
    redis_ms, worker_ms = cloud.get("redis_cpu_ms_per_block"), cloud.get("worker_cpu_ms_per_block")
    if not (redis_ms and worker_ms):
        return []
    redis_blocks = 1000 / redis_ms
    peak = PLANNED_REQUESTS_A_DAY * PEAK_HOUR_SHARE / 3600
    lines = [
        (
            "One Redis is the limit at",
            f"{redis_blocks:.0f} blocks/s",
            f"fed by {redis_blocks * worker_ms / 1000:.0f} network-pool cores; one Redis core "
            f"carries {redis_blocks * SECONDS_A_DAY / 1e6:.0f} million blocks a day",
        ),
        (
            "Seed 003's plan",
            f"millions of requests a day: {PLANNED_REQUESTS_A_DAY / 1e6:.0f} million taken, "
            f"{PEAK_HOUR_SHARE:.0%} of them in the busiest hour: {peak:.0f}/s",
            f"{peak * worker_ms / 1000:.1f} network-pool cores and "
            f"{peak / redis_blocks:.0%} of one Redis core at one block a request",
        ),
    ]
    if api_ms := scaling.get("api_cpu_ms_per_submit"):
        lines.append(
            (
                "API cores for that peak",
                f"{peak * api_ms / 1000:.1f}",
                "one submit a request",
            )
        )
    return lines


def render(results: dict) -> str:
    found = rows(results)
    if not found:
        return "This run measured no per-unit costs (`cost`, `scaling`)."
    lines = ["| Unit | Cost | What it carries |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in found]
    return "\n".join(lines)
