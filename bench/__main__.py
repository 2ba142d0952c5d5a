"""`make bench`: every benchmark, side by side in one run; ratios printed, JSON written, and
docs/performance.md written from it (bench/performance_page.py).

    python -m bench [--quick] [--only NAME,...]

Names: combine, formats, fanout, local, ingest, streaming, cache, accounts, speech, voices,
ssml, probes, realtime, wyoming, kokoro, words, lexicons, longform, timings, cost, speech_load,
scaling (all by default).

--quick skips the hour-long combine (N=400), encodes ten minutes (not an hour) per format, and
shortens the ingest run.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    accounts_bench,
    combine_bench,
    cost_bench,
    formats_bench,
    kokoro_bench,
    lexicon_bench,
    longform_bench,
    performance_page,
    probe_bench,
    realtime_bench,
    scaling_bench,
    service_bench,
    speech_bench,
    speech_load_bench,
    ssml_bench,
    timings_bench,
    voices_bench,
    words_bench,
    wyoming_bench,
)
from bench.report import report

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--only",
        default=(
            "combine,formats,fanout,local,ingest,streaming,cache,accounts,speech,voices,ssml,"
            "probes,realtime,wyoming,kokoro,words,lexicons,longform,timings,cost,speech_load,"
            "scaling"
        ),
    )
    args = parser.parse_args()
    chosen = args.only.split(",")
    runs = {
        "combine": lambda: combine_bench.run(sizes=(20,) if args.quick else (20, 400)),
        "formats": lambda: formats_bench.run(seconds=600 if args.quick else 3600),
        "fanout": service_bench.fan_out,
        "local": service_bench.local_provider,
        "ingest": lambda: service_bench.ingest(seconds=3 if args.quick else 10),
        "streaming": service_bench.streaming,
        "cache": service_bench.cache,
        "speech": speech_bench.run,
        "voices": voices_bench.run,
        "ssml": ssml_bench.run,
        "probes": lambda: probe_bench.run(seconds=6 if args.quick else 15),
        "wyoming": wyoming_bench.run,
        "realtime": realtime_bench.run,
        "kokoro": kokoro_bench.run,
        "words": words_bench.run,
        "lexicons": lexicon_bench.run,
        "longform": lambda: longform_bench.run(sizes=(20,) if args.quick else (20, 400)),
        "timings": timings_bench.run,
        "cost": cost_bench.run,
        "speech_load": speech_load_bench.run,
        "scaling": scaling_bench.run,
        "accounts": lambda: {
            "limit10_60_blocks_quarter_piper": accounts_bench.utilization(10, 60, piper_every=4),
            "limit30_120_blocks": accounts_bench.utilization(30, 120),
            "fairness": accounts_bench.fairness(),
            "network_pool_memory": accounts_bench.network_pool_memory(),
        },
    }
    results: dict = {
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for name in chosen:
        started = time.perf_counter()
        print(f"running {name} ...", flush=True)
        results[name] = runs[name]()
        print(f"  {json.dumps(results[name])} ({time.perf_counter() - started:.0f} s)", flush=True)
    print("\nSummary")
    for line in report(results):
        print(" ", line)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "latest.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {out}")
    # The page shows a whole run only: a partial one would drop the other benchmarks' figures.
    if args.quick or set(chosen) != set(runs):
        print("docs/performance.md left as it was (a --quick or --only run)")
    else:
        print(f"written to {performance_page.write(results)}")


if __name__ == "__main__":
    main()
