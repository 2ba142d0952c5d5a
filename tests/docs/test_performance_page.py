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
    assert "(MISSES >=1.85x) |" in page
    assert "| SSML | SSML: a 100 KB document (1715 segments) compiled in 104.2 ms" in page
    # every figure of the JSON
    assert "### local\n\n| Figure | Value |\n|---|---|\n| `speedup` | 1.62 |" in page
    assert "| `one_process_s` | 9.1 |" in page
    assert "### machine" not in page


def test_what_a_cluster_carries_is_worked_out_from_the_costs():
    cost = {
        "output_format": "mp3_24000_64",
        "pool": "network",
        "blocks": 40,
        "audio_seconds_per_block": 3.4,
        "worker_cpu_ms_per_block": 5.0,
        "redis_cpu_ms_per_block": 0.5,
        "redis_commands_per_block": 19.0,
        "redis_commands_in_scripts_per_block": 51.0,
        "broker_messages_per_block": 1.05,
        "redis_bytes_in_per_block": 6400,
        "redis_bytes_out_per_block": 2900,
        "stored_bytes_per_audio_second": 8000,
    }
    results = {
        "cost": {"passthrough": cost, "commands_before": 41.0},
        "scaling": {"api_cpu_ms_per_submit": 4.0, "redis_bytes_per_queued_job": 12_500},
    }
    page = performance_page.render(results)
    assert "<!-- bench:" not in page
    # a core at 5 ms a block makes 200 a second; Redis at 0.5 ms, 2000: fed by 10 such cores
    assert "| Worker CPU, a cloud block stored as it came | 5.0 ms (3.4 s of audio) | 200 " in page
    assert "| One Redis is the limit at | 2000 blocks/s | fed by 10 network-pool cores" in page
    assert "| API, a submit | 4.0 ms of CPU (a 10-block job) | 250 jobs/s per API core |" in page
    assert "19.0 commands sent to Redis (meets <=20.5, half of the 41 a cloud block" in page


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
