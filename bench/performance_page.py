"""docs/performance.md, written from a benchmark run's JSON: nobody edits its figures by hand.

    python -m bench.performance_page [RESULTS_JSON]   # default: bench/results/latest.json

`make bench` calls `write` after a full run. The prose is bench/performance_template.md; its
markers are replaced by the run's description, the summary table (bench/report.py) and every
figure of the JSON, one table per benchmark.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench import cluster_model
from bench.report import report_rows

BENCH = Path(__file__).resolve().parent
TEMPLATE = BENCH / "performance_template.md"
PAGE = BENCH.parent / "docs" / "performance.md"
LATEST = BENCH / "results" / "latest.json"

RUN, SUMMARY, FIGURES = "<!-- bench:run -->", "<!-- bench:summary -->", "<!-- bench:figures -->"
CLUSTER = "<!-- bench:cluster -->"
NOTICE = (
    "<!-- Written by `make bench` (bench/performance_page.py) from its JSON results; edit "
    "bench/performance_template.md, not this file. -->\n"
)
HISTORY = "[Earlier figures](performance-history.md)."
# Keys of the JSON that describe the run rather than a benchmark.
RUN_KEYS = ("machine", "started")


def render(results: dict | None, template: str | None = None) -> str:
    text = TEMPLATE.read_text() if template is None else template
    results = results or {}
    benchmarks = {k: v for k, v in results.items() if k not in RUN_KEYS}
    if not benchmarks:
        run = "No run of `make bench` has written this page yet."
        none = "No results yet: the last figures recorded by hand are on " + HISTORY
        text = text.replace(CLUSTER, none)
        return NOTICE + text.replace(RUN, run).replace(SUMMARY, none).replace(FIGURES, none)
    text = text.replace(CLUSTER, cluster_model.render(results))
    return NOTICE + text.replace(RUN, _run(results)).replace(SUMMARY, _summary(results)).replace(
        FIGURES, _figures(benchmarks)
    )


def write(results: dict, page: Path = PAGE) -> Path:
    page.write_text(render(results))
    return page


def _run(results: dict) -> str:
    machine = results.get("machine", {})
    parts = [f"started {results['started']}"] if results.get("started") else []
    if machine.get("cpus"):
        parts.append(f"{machine['cpus']} CPUs")
    if machine.get("python"):
        parts.append(f"Python {machine['python']}")
    return f"Figures of one run of `make bench` ({', '.join(parts) or 'no details recorded'})."


def _summary(results: dict) -> str:
    lines = ["| Benchmark | Result |", "|---|---|"]
    lines += [f"| {_cell(title)} | {_cell(text)} |" for title, text in report_rows(results)]
    return "\n".join(lines)


def _figures(benchmarks: dict) -> str:
    parts = []
    for name, value in benchmarks.items():
        parts.append(f"### {name}\n\n| Figure | Value |\n|---|---|")
        parts += [f"| `{key}` | {_cell(_shown(v))} |" for key, v in _flatten(value)]
        parts.append("")
    return "\n".join(parts).rstrip()


def _flatten(value, prefix: str = "") -> list[tuple[str, object]]:
    if isinstance(value, dict):
        items = []
        for key, sub in value.items():
            items += _flatten(sub, f"{prefix}.{key}" if prefix else str(key))
        return items
    return [(prefix or "value", value)]


def _shown(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    return str(value)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.performance_page")
    parser.add_argument("results", nargs="?", type=Path, default=LATEST)
    args = parser.parse_args()
    if not args.results.exists():
        sys.exit(f"no results at {args.results}: run `make bench` first")
    print(f"written {write(json.loads(args.results.read_text()))}")


if __name__ == "__main__":
    main()
