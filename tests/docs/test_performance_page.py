"""docs/performance.md is written from a benchmark run's JSON (bench/performance_page.py)."""

from __future__ import annotations

from bench import performance_page
from tests.docs.examples import ROOT

SAMPLE = {
    "machine": {"cpus": 2, "python": "3.11.7"},
    "started": "2026-12-06T07:00:00+00:00",
    "cache": {"speedup": 12.5, "provider_calls_on_repeat": 0},
    "local": {"speedup": 1.62, "one_process_s": 9.1, "per_core_s": 5.6},
    "ssml": {
        "document_kb": 100,
        "segments": 1715,
        "compile_ms": 104.2,
        "entity_bomb_refused_ms": 0.03,
        "tags_2mb_refused_ms": 67.0,
    },
}


def test_the_page_is_rendered_from_the_results():
    page = performance_page.render(SAMPLE)
    assert page.startswith(performance_page.NOTICE)
    assert "<!-- bench:" not in page
    assert "started 2026-12-06T07:00:00+00:00, 2 CPUs, Python 3.11.7" in page
    # the summary: each benchmark's line, with its target met or missed
    assert "| Cache | cache: repeated job 12.5x faster (meets >=10x), 0 provider calls" in page
    assert "| Local provider | local provider: one process per core 1.62x faster than one " in page
    assert "(MISSES >=1.8x) |" in page
    assert "| SSML | SSML: a 100 KB document (1715 segments) compiled in 104.2 ms" in page
    # every figure of the JSON
    assert "### local\n\n| Figure | Value |\n|---|---|\n| `speedup` | 1.62 |" in page
    assert "| `one_process_s` | 9.1 |" in page
    assert "### machine" not in page


def test_nested_figures_are_flattened():
    mp3 = {
        "file_s_per_hour": 48.1,
        "file_real_time_factor": 74.8,
        "stream_s_per_hour": 12.7,
        "stream_real_time_factor": 283.5,
    }
    page = performance_page.render({"formats": {"mp3": mp3}})
    assert "| Formats | formats, one hour at 24 kHz (file; stream): mp3 48.1 s 74.8x; " in page
    assert "| `mp3.file_s_per_hour` | 48.1 |" in page


def test_without_results_the_page_says_so():
    page = performance_page.render({})
    assert "No run of `make bench` has written this page yet." in page
    assert "(performance-history.md)" in page


def test_the_committed_page_is_generated():
    page = (ROOT / "docs" / "performance.md").read_text()
    assert page.startswith(performance_page.NOTICE)
    assert "<!-- bench:" not in page
