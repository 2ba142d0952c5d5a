"""The summary of a benchmark run: one line per benchmark, with its targets met or missed.

Printed by `make bench` and the table of docs/performance.md. The modules that phrase their
own lines are imported only when their results are there, so rendering the page needs none of
the benchmarks' dependencies.
"""

from __future__ import annotations


def _check(value: float, target: float, higher_is_better: bool = True) -> str:
    ok = value >= target if higher_is_better else value <= target
    return "meets" if ok else "MISSES"


def report_rows(results: dict) -> list[tuple[str, str]]:
    """(benchmark, result) for each benchmark in `results`: printed, and the table of
    docs/performance.md."""
    rows: list[tuple[str, str]] = []

    def add(title: str, text: str) -> None:
        rows.append((title, text))

    for key, r in results.get("combine", {}).items():
        add(
            f"Combine, {key.removeprefix('n')} blocks",
            f"combine {key}: {r['speedup_vs_pydub']}x faster than pydub "
            f"({_check(r['speedup_vs_pydub'], 20)} >=20x), "
            f"{r['ours_real_time_factor']:.0f}x real time "
            f"({_check(r['ours_real_time_factor'], 100)} >=100x), "
            f"memory {r['ours_growth_mb']} MB over the process's own baseline "
            f"({_check(r['ours_growth_mb'], 100, False)} <100 MB; peak {r['ours_peak_mb']} MB with "
            f"the interpreter and its imports) vs pydub's peak {r['pydub_peak_mb']} MB; "
            f"pauses >=100 ms off by <= {r['max_pause_error_ms_for_pauses_100ms_plus']} ms "
            f"({_check(r['max_pause_error_ms_for_pauses_100ms_plus'], 30, False)} <=30), "
            f"short pauses +{r['max_silence_added_ms_for_short_pauses']} ms "
            f"({_check(r['max_silence_added_ms_for_short_pauses'], 80, False)} <=80), "
            f"reported duration off {r['reported_duration_error_pct']}% "
            f"({_check(r['reported_duration_error_pct'], 0.5, False)} <=0.5%)",
        )
    if r := results.get("formats"):
        add(
            "Formats",
            "formats, one hour at 24 kHz (file; stream): "
            + ", ".join(
                f"{family} {f['file_s_per_hour']} s {f['file_real_time_factor']}x; "
                f"{f['stream_s_per_hour']} s {f['stream_real_time_factor']}x"
                for family, f in r.items()
            ),
        )
    if r := results.get("fanout"):
        add(
            "Fan-out",
            f"fan-out: {r['end_to_end_s']} s end to end, "
            f"{r['vs_ideal']}x the ideal {r['ideal_s']} s "
            f"({_check(r['vs_ideal'], 1.15, False)} <=1.15x), "
            f"{r['speedup_vs_one_by_one']}x faster than one by one ({r['one_by_one_s']} s); "
            f"the network pool's {r['network_cpu_ms_per_block']} ms of CPU a block put the "
            f"floor on {r['cores']} cores at {r['cpu_floor_s']} s ({r['floor_vs_ideal']}x the "
            "ideal)",
        )
    if r := results.get("local"):
        add(
            "Local provider",
            f"local provider: one process per core {r['speedup']}x faster than one process "
            f"({_check(r['speedup'], 1.85)} >=1.85x)",
        )
    if r := results.get("ingest"):
        add(
            "Ingest",
            f"ingest on {r['api_processes']} API processes: at most {r['max_jobs_per_second']} "
            f"jobs/s ({_check(r['max_jobs_per_second'], 400)} >=400); at "
            f"{r['achieved_jobs_per_second']} jobs/s from {r['clients']} clients: "
            f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms ({_check(r['p99_ms'], 50, False)} <=50)",
        )
    if r := results.get("streaming"):
        add(
            "Streaming",
            f"streaming: first byte {r['first_byte_after_block0_ms']} ms after block 0 finished "
            f"({_check(r['first_byte_after_block0_ms'], 100, False)} <=100 ms), "
            f"{r['first_byte_before_job_end_s']} s before the job ended",
        )
    if r := results.get("accounts"):
        for key, target in (("limit10_60_blocks_quarter_piper", 9.6), ("limit30_120_blocks", 28.5)):
            u = r[key]
            add(
                f"Account limit {u['limit']}",
                f"account limit {u['limit']}, {u['blocks']} blocks: {u['average_in_flight']} in "
                f"flight on average ({_check(u['average_in_flight'], target)} >={target}), peak "
                f"{u['peak_in_flight']} ({_check(u['peak_in_flight'], u['limit'], False)} "
                f"<={u['limit']}), {u['rejected_429']} 429s "
                f"({_check(u['rejected_429'], 0, False)} 0); a freed slot idle "
                f"{u['handoff_ms_p50']} ms (median), {u['handoff_ms_p90']} ms (90th percentile) "
                f"before the next request; network pool {u['network_cpu_ms_per_block']} ms CPU a "
                f"block, {u['network_cores_at_limit']} of {u['cores']} cores at the limit; the "
                f"machine {round(100 * u['machine_cpu_share'])} % busy, the simulator included",
            )
        f = r["fairness"]
        add(
            "Fairness",
            f"fairness: a {f['small_blocks']}-block job behind another user's "
            f"{f['backlog_blocks']}-block job took {f['small_behind_backlog_s']} s, alone "
            f"{f['small_alone_s']} s ({_check(f['small_behind_backlog_s'], f['target_s'], False)}"
            f" <={f['target_s']} s)",
        )
        m = r["network_pool_memory"]
        add(
            "Network pool memory",
            f"network pool: {m['busy_mb']} MB with {m['calls_in_flight_seen']} calls in flight "
            f"({m['idle_mb']} MB idle, {m['per_call_mb']} MB a call)",
        )
    if r := results.get("cost"):
        half = r["commands_before"] / 2
        targets = {"passthrough": 5, "decoded": 8, "resampled": None, "piper": None}
        for key, target in targets.items():
            if (c := r.get(key)) is None:
                continue
            cpu = c["worker_cpu_ms_per_block"]
            check = f" ({_check(cpu, target, False)} <={target} ms)" if target else ""
            add(
                f"Cost, {key}",
                f"a block ({c['output_format']}, {c['pool']} pool): {cpu} ms of worker CPU"
                f"{check}, {c['redis_cpu_ms_per_block']} ms of Redis CPU; "
                f"{c['redis_commands_per_block']} commands sent to Redis ("
                + (
                    f"{_check(c['redis_commands_per_block'], half, False)} <={half:g}, half of "
                    f"the {r['commands_before']:g} a cloud block sent before; "
                    if c["pool"] == "network"
                    else ""
                )
                + f"{c['redis_commands_in_scripts_per_block']} more inside scripts), "
                f"{c['broker_messages_per_block']} broker messages",
            )
    if r := results.get("speech_load"):
        b, p = r["burst"], r["piper"]
        fb = b["first_byte_s"]
        add(
            "Speech, 100 at once",
            f"{b['requests']} simultaneous speech requests on a cloud account at "
            f"{b['upstream_latency_ms']} ms: {b['failed']} failed "
            f"({_check(b['failed'], 0, False)} 0); first byte p50 {fb['p50']} s, p90 {fb['p90']} "
            f"s, max {fb['max']} s ({_check(fb['max'], 0.6, False)} <=0.6 s); "
            f"{b['api_cpu_ms_per_request']} ms of API CPU a request",
        )
        four, one = p["four"], p["one_alone"]
        add(
            "Speech, four Piper at once",
            f"four {max(p['input_chars'])}-character Piper requests at once: first bytes "
            f"{', '.join(str(x) for x in four['first_byte_s'])} s "
            f"({_check(four['first_byte_max_s'], 1.5, False)} <=1.5 s; one alone "
            f"{one['first_byte_s']} s), all four in {four['wall_s']} s = "
            f"{p['ratio_wall_to_one_alone']}x one alone ({one['total_s']} s) "
            f"({_check(p['ratio_wall_to_one_alone'], 4, False)} <=4x)",
        )
    if (r := results.get("scaling")) and "cloud" in r:
        curves = []
        for pool in ("cloud", "piper"):
            c = r[pool]
            points = ", ".join(f"{x['processes']}: {x['blocks_per_s']}" for x in c["curve"])
            curves.append(
                f"{pool} blocks/s by processes {points} (bends after {c['bends_after_processes']})"
            )
        add(
            "Scaling",
            f"{'; '.join(curves)}, on {r['cores']} cores; API {r['api_cpu_ms_per_submit']} ms "
            f"of CPU a submit, Redis {r['redis_bytes_per_queued_job']} bytes a waiting job",
        )
    if r := results.get("speech"):
        ref = r["piper_one_process"]
        target, target_1 = r["first_byte_target_s"], r["first_byte_target_one_thread_s"]
        for name in ("mp3", "pcm", "opus"):
            s = r[name]
            add(
                f"Speech, {name}",
                f"speech ({name}, {r['input_chars']} chars, SDK streaming): first byte "
                f"{s['first_byte_s']} s ({_check(s['first_byte_s'], target, False)} <={target} s:"
                f" the first sentence alone {ref['first_sentence_s']} s + 150 ms; "
                f"{_check(s['first_byte_s'], target_1, False)} <={target_1} s with one thread as "
                f"the pool runs it), total {s['total_s']} s = {s['vs_piper_one_call']}x piper in "
                f"one call in one process ({ref['one_call_s']} s, every core) "
                f"({_check(s['vs_piper_one_call'], 0.6, False)} <=0.6x); "
                f"{s['vs_piper_one_thread']}x piper on one thread ({ref['one_thread_s']} s)",
            )
    if r := results.get("voices"):
        from bench import voices_bench

        add("Piper catalogue voice", voices_bench.summary(r))
    if r := results.get("ssml"):
        from bench import ssml_bench

        add("SSML", ssml_bench.summary(r))
    if r := results.get("probes"):
        from bench import probe_bench

        add("Probes under hostile load", probe_bench.summary(r))
    if r := results.get("realtime"):
        from bench import realtime_bench

        rows += [("Text streamed in", line) for line in realtime_bench.summary(r)]
    if r := results.get("wyoming"):
        from bench import wyoming_bench

        rows += [("Wyoming", line) for line in wyoming_bench.summary(r).splitlines()]
    if r := results.get("kokoro"):
        from bench import kokoro_bench

        rows += [("Kokoro", line) for line in kokoro_bench.summary(r)]
    if r := results.get("words"):
        from bench import words_bench

        rows += [("Word timings", line) for line in words_bench.summary(r)]
    if r := results.get("lexicons"):
        from bench import lexicon_bench

        rows += [("Lexicons", line) for line in lexicon_bench.summary(r)]
    if r := results.get("longform"):
        from bench import longform_bench

        rows += [("Long-form", line) for line in longform_bench.summary_lines(r)]
    if r := results.get("timings"):
        from bench import timings_bench

        add("Sentence timings", timings_bench.report(r))
    if r := results.get("cache"):
        add(
            "Cache",
            f"cache: repeated job {r['speedup']}x faster ({_check(r['speedup'], 10)} >=10x), "
            f"{r['provider_calls_on_repeat']} provider calls on repeat",
        )
    return rows


def report(results: dict) -> list[str]:
    return [text for _, text in report_rows(results)]
