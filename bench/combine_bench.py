"""Benchmark 1: our frame-level combine against the original design's pydub path.

Both stitch the same block MP3s with the same pauses, each in a fresh process so its peak
memory is its own. Our output is then checked: pauses heard, clicks, reported duration.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from config import PROJECT_ROOT
from utils.audio.formats import OutputFormat
from utils.audio.mp3_frames import bare_frames
from utils.audio.pcm import decode_mp3, encode_mp3, fade_edges

FORMAT = OutputFormat.parse("mp3_24000_64")
DISTINCT_BLOCKS = 20
BLOCK_SECONDS = 9.0  # 400 blocks: one hour of audio
PAUSES_MS = [0, 50, 150, 300, 700]


def speech_like(seconds: float, rate: int, seed: int) -> np.ndarray:
    """Syllable-like bursts of voiced sound with short gaps: what a TTS block looks like."""
    rng = np.random.default_rng(seed)
    out, t = np.zeros(int(seconds * rate), dtype=np.float32), 0
    while t < out.size:
        n = int(rng.uniform(0.08, 0.25) * rate)
        f0 = rng.uniform(90, 220)
        k = np.arange(min(n, out.size - t))
        wave = sum(np.sin(2 * np.pi * f0 * h * k / rate) / h for h in (1, 2, 3))
        out[t : t + k.size] = 6000 * wave * np.hanning(k.size)
        t += k.size + int(rng.uniform(0.0, 0.06) * rate)
    return out.astype(np.int16)


def make_blocks(folder: Path) -> list[dict]:
    blocks = []
    for i in range(DISTINCT_BLOCKS):
        samples = fade_edges(speech_like(BLOCK_SECONDS, FORMAT.sample_rate, i), FORMAT.sample_rate)
        frames = bare_frames(encode_mp3(samples, FORMAT), FORMAT)
        path = folder / f"block_{i:02d}.mp3"
        path.write_bytes(frames.data)
        blocks.append(
            {"path": str(path), "n_samples": int(samples.size), "n_frames": frames.n_frames}
        )
    return blocks


def _run(module: str, spec: dict) -> dict:
    """Run a stitcher in a fresh process, so its peak memory is its own."""
    result = subprocess.run(
        [sys.executable, "-m", module],
        cwd=PROJECT_ROOT,
        input=json.dumps(spec),
        text=True,
        capture_output=True,
        check=True,
    )
    return json.loads(result.stdout)


def reported_duration_s(path: Path) -> float:
    """The duration ffmpeg (what browsers use) reports from the file, without decoding it."""
    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
    )
    h, m, s = re.search(r"Duration: (\d+):(\d+):([\d.]+)", probe.stderr).groups()
    return int(h) * 3600 + int(m) * 60 + float(s)


def check_boundaries(audio: np.ndarray, spec_blocks: list[dict], starts, ends) -> dict:
    """Measure the silence heard at each boundary and the largest step (click) near it."""
    rate = FORMAT.sample_rate
    long_errors, short_added, steps_edge, steps_inner = [], [], [], []
    for i in range(len(spec_blocks) - 1):
        gap = audio[ends[i] : starts[i + 1]]
        # silence heard: the quiet run between the last loud sample of block i and block i+1
        loud_before = np.nonzero(np.abs(audio[starts[i] : ends[i]]) > 300)[0]
        loud_after = np.nonzero(np.abs(audio[starts[i + 1] : ends[i + 1]]) > 300)[0]
        heard = (starts[i + 1] + loud_after[0]) - (starts[i] + loud_before[-1])
        content_gap = (ends[i] - (starts[i] + loud_before[-1])) + loud_after[0]  # inside blocks
        heard_ms = (heard - content_gap) * 1000 / rate
        pause = spec_blocks[i]["pause_ms"]
        if pause >= 100:
            long_errors.append(abs(heard_ms - pause))
        else:
            short_added.append(heard_ms - pause)
        edge = audio[max(0, ends[i] - 240) : starts[i + 1] + 240].astype(np.int32)
        steps_edge.append(int(np.abs(np.diff(edge)).max()) if edge.size > 1 else 0)
        inner = audio[starts[i] + rate : starts[i] + 2 * rate].astype(np.int32)
        steps_inner.append(int(np.abs(np.diff(inner)).max()))
        del gap
    return {
        "max_pause_error_ms_for_pauses_100ms_plus": round(max(long_errors), 1),
        "max_silence_added_ms_for_short_pauses": round(max(short_added), 1),
        "largest_step_at_boundaries_vs_inside": round(max(steps_edge) / max(steps_inner), 2),
    }


def run(sizes=(20, 400)) -> dict:
    results = {}
    with tempfile.TemporaryDirectory(prefix="tts-bench-combine-") as tmp:
        folder = Path(tmp)
        distinct = make_blocks(folder)
        for n in sizes:
            blocks = [
                {**distinct[i % DISTINCT_BLOCKS], "pause_ms": PAUSES_MS[i % len(PAUSES_MS)]}
                for i in range(n)
            ]
            ours_out, ref_out = folder / f"ours_{n}.mp3", folder / f"pydub_{n}.mp3"
            ours = _run(
                "bench.stitch_ours", {"format": FORMAT.name, "blocks": blocks, "out": str(ours_out)}
            )
            reference = _run("bench.stitch_pydub", {"blocks": blocks, "out": str(ref_out)})
            audio = decode_mp3(ours_out.read_bytes(), FORMAT.sample_rate)
            real_s = audio.size / FORMAT.sample_rate
            reported_s = reported_duration_s(ours_out)
            results[f"n{n}"] = {
                "blocks": n,
                "audio_seconds": round(real_s, 1),
                "ours_seconds": round(ours["seconds"], 4),
                "pydub_seconds": round(reference["seconds"], 2),
                "speedup_vs_pydub": round(reference["seconds"] / ours["seconds"], 1),
                "ours_real_time_factor": round(real_s / ours["seconds"], 0),
                "ours_peak_mb": round(ours["peak_mb"], 1),
                "ours_growth_mb": round(ours["delta_mb"], 1),
                "pydub_peak_mb": round(reference["peak_mb"], 1),
                "reported_duration_error_pct": round(abs(reported_s - real_s) / real_s * 100, 3),
                **check_boundaries(audio, blocks, ours["starts"], ours["ends"]),
            }
    return results
