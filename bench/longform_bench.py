"""Benchmark: the hour-long job (bench/combine_bench.py's 400 blocks of 9 s) with chapters and a
loudness target, against the plain combine.

Blocks alternate between two levels 10 dB apart (as two providers would give them). Each
distinct block is leveled to the podcast target as its worker would (utils/audio/loudness.py
level_block: the worker's added cost per block), then the job is combined twice in fresh
processes, plain (bench/stitch_ours.py) and with its ID3 tag of title and chapters (a chapter
every 10 blocks: bench/stitch_longform.py), so each peak memory is its own; the m4b combine
(one AAC encoder over the leveled PCM, MP4 chapters) is timed the same way. The tagged hour is
then decoded and measured: its integrated loudness against the target, its true peak against
the ceiling.

Run alone: `python -c "from bench import longform_bench as b; print(b.run())"`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from bench.combine_bench import BLOCK_SECONDS, DISTINCT_BLOCKS, PAUSES_MS, speech_like
from config import PROJECT_ROOT
from utils.audio.encoders import pcm_bytes
from utils.audio.formats import OutputFormat
from utils.audio.loudness import integrated_lufs, level_block, true_peak_db
from utils.audio.loudness_target import PRESETS, LoudnessTarget
from utils.audio.mp3_frames import bare_frames
from utils.audio.pcm import apply_gain, decode_mp3, encode_mp3, fade_edges

MP3 = OutputFormat.parse("mp3_24000_64")
TARGET = LoudnessTarget(*PRESETS["podcast"])
QUIETER_DB = -10.0  # every other distinct block, as a second provider's level
TRUE_PEAK_CHUNK_S = 60  # the hour's true peak measured a minute at a time (4x oversampled)


def _blocks(folder: Path) -> tuple[list[dict], dict]:
    """The distinct blocks leveled as workers would, stored as MP3 frames and as PCM; and
    the leveling's cost and spread (LUFS between the loudest and quietest block)."""
    blocks, seconds, before, after = [], 0.0, [], []
    for i in range(DISTINCT_BLOCKS):
        raw = speech_like(BLOCK_SECONDS, MP3.sample_rate, i)
        raw = apply_gain(raw, QUIETER_DB if i % 2 else 0.0)
        started = time.perf_counter()
        leveled, measured = level_block(raw, MP3, TARGET)
        seconds += time.perf_counter() - started
        samples = fade_edges(leveled, MP3.sample_rate)
        before.append(integrated_lufs(raw, MP3.sample_rate))
        frames = bare_frames(encode_mp3(samples, MP3), MP3)
        after.append(integrated_lufs(decode_mp3(frames.data, MP3.sample_rate), MP3.sample_rate))
        path = folder / f"block_{i:02d}.mp3"
        path.write_bytes(frames.data)
        pcm = folder / f"block_{i:02d}.pcm"
        pcm.write_bytes(pcm_bytes(samples))
        blocks.append(
            {
                "path": str(path),
                "pcm": str(pcm),
                "n_samples": int(samples.size),
                "n_frames": frames.n_frames,
            }
        )
    cost = {
        "level_ms_per_block": round(seconds / DISTINCT_BLOCKS * 1000, 1),
        "level_real_time_factor": round(DISTINCT_BLOCKS * BLOCK_SECONDS / seconds, 0),
        "block_spread_lu_before": round(max(before) - min(before), 2),
        "block_spread_lu_after": round(max(after) - min(after), 2),
    }
    return blocks, cost


def _run(module: str, spec: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", module],
        cwd=PROJECT_ROOT,
        input=json.dumps(spec),
        text=True,
        capture_output=True,
        check=True,
    )
    return json.loads(result.stdout)


def _programme(path: Path) -> tuple[float, float, float]:
    """Integrated loudness, true peak (dBTP) and decoded seconds of a long file, read with PyAV
    a minute at a time for the peak."""
    pieces, peak, chunk, held = [], -np.inf, [], 0
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            data = frame.to_ndarray().reshape(-1)
            pieces.append(data)
            chunk.append(data)
            held += data.size
            if held >= TRUE_PEAK_CHUNK_S * MP3.sample_rate:
                peak = max(peak, true_peak_db(np.concatenate(chunk), MP3.sample_rate) or -np.inf)
                chunk, held = [], 0
    if chunk:
        peak = max(peak, true_peak_db(np.concatenate(chunk), MP3.sample_rate) or -np.inf)
    audio = np.concatenate(pieces)
    return integrated_lufs(audio, MP3.sample_rate), peak, audio.size / MP3.sample_rate


def run(sizes=(20, 400)) -> dict:
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="tts-bench-longform-") as tmp:
        folder = Path(tmp)
        distinct, cost = _blocks(folder)
        results["leveling"] = cost
        for n in sizes:
            blocks = [
                {**distinct[i % DISTINCT_BLOCKS], "pause_ms": PAUSES_MS[i % len(PAUSES_MS)]}
                for i in range(n)
            ]
            plain_out, tagged_out, m4b_out = (
                folder / f"plain_{n}.mp3", folder / f"tagged_{n}.mp3", folder / f"book_{n}.m4b"
            )  # fmt: skip
            plain = _run("bench.stitch_ours", {"format": MP3.name, "blocks": blocks,
                                                "out": str(plain_out)})  # fmt: skip
            tagged = _run("bench.stitch_longform", {"kind": "mp3", "blocks": blocks,
                                                   "out": str(tagged_out)})  # fmt: skip
            book = _run("bench.stitch_longform", {"kind": "m4b", "blocks": blocks,
                                                 "out": str(m4b_out),
                                                 "ceiling_db": TARGET.true_peak_db})  # fmt: skip
            lufs, peak, seconds = _programme(tagged_out)
            _, m4b_peak, _ = _programme(m4b_out)
            results[f"n{n}"] = {
                "blocks": n,
                "audio_seconds": round(seconds, 1),
                "plain_seconds": round(plain["seconds"], 4),
                "tagged_seconds": round(tagged["seconds"], 4),
                "plain_peak_mb": round(plain["peak_mb"], 1),
                "tagged_peak_mb": round(tagged["peak_mb"], 1),
                "tagged_growth_mb": round(tagged["delta_mb"], 1),
                "m4b_seconds": round(book["seconds"], 2),
                "m4b_peak_mb": round(book["peak_mb"], 1),
                "m4b_peak_check_seconds": round(book["guard_seconds"], 2),
                "m4b_dips": book["dips"],
                "m4b_true_peak_dbtp": round(m4b_peak, 2),
                "tag_bytes": tagged_out.stat().st_size - plain_out.stat().st_size,
                "programme_lufs": round(lufs, 2),
                "loudness_error_lu": round(lufs - TARGET.integrated_lufs, 2),
                "true_peak_dbtp": round(peak, 2),
                "true_peak_under_ceiling": bool(peak <= TARGET.true_peak_db),
            }
    return results


def summary_lines(r: dict) -> list[str]:
    lines = []
    for key, value in r.items():
        if not key.startswith("n"):
            continue
        lines.append(
            f"longform {value['blocks']} blocks ({value['audio_seconds']} s): tagged combine "
            f"(chapters, title) {value['tagged_seconds']} s vs plain {value['plain_seconds']} s, "
            f"peak {value['tagged_peak_mb']} vs {value['plain_peak_mb']} MB; m4b with chapters "
            f"{value['m4b_seconds']} s ({value['m4b_peak_check_seconds']} s of it the true-peak "
            f"check, {value['m4b_dips']} dips; {value['m4b_true_peak_dbtp']} dBTP), "
            f"{value['m4b_peak_mb']} MB; loudness "
            f"{value['programme_lufs']} LUFS (error {value['loudness_error_lu']} LU, target "
            f"within 1), true peak {value['true_peak_dbtp']} dBTP "
            f"({'under' if value['true_peak_under_ceiling'] else 'OVER'} the ceiling)"
        )
    level = r["leveling"]
    lines.append(
        f"leveling: {level['level_ms_per_block']} ms a block, spread between blocks "
        f"{level['block_spread_lu_before']} LU -> {level['block_spread_lu_after']} LU"
    )
    return lines
