"""Our combine, timed in a process of its own: `python -m bench.stitch_ours < spec.json`.

The spec names the block files, their sample and frame counts and pauses; prints seconds, peak
memory and where each block landed (for bench/combine_bench.py to check against the audio).
"""

from __future__ import annotations

import json
import sys
import time
from functools import partial

from bench.peak_memory import peak_mb
from utils.audio.formats import OutputFormat
from utils.audio.mp3_frames import silence_frame
from utils.audio.timeline import plan_timeline
from workers.combine import write_stitched


def main() -> None:
    spec = json.loads(sys.stdin.read())
    fmt = OutputFormat.parse(spec["format"])
    base = peak_mb()
    started = time.perf_counter()
    blocks = spec["blocks"]
    timeline = plan_timeline([(b["n_samples"], b["n_frames"], b["pause_ms"]) for b in blocks], fmt)
    openers = [partial(open, b["path"], "rb") for b in blocks]
    with open(spec["out"], "wb") as out:
        write_stitched(out, openers, timeline, silence_frame(fmt))
    seconds = time.perf_counter() - started
    peak = peak_mb()
    result = {
        "seconds": seconds,
        "peak_mb": peak,
        "delta_mb": peak - base,
        "starts": [p.start_sample for p in timeline.blocks],
        "ends": [p.end_sample for p in timeline.blocks],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
