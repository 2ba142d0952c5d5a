"""The original design's combine, timed in a process of its own:
`python -m bench.stitch_pydub < spec.json`.

pydub decodes each block with ffmpeg, appends it and its silence in memory, and exports.
"""

from __future__ import annotations

import json
import sys
import time

import imageio_ffmpeg
from pydub import AudioSegment

from bench.peak_memory import peak_mb


def main() -> None:
    AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()
    spec = json.loads(sys.stdin.read())
    base = peak_mb()
    started = time.perf_counter()
    combined = AudioSegment.empty()
    for block in spec["blocks"]:
        # codec given: pydub then needs no ffprobe (imageio-ffmpeg ships ffmpeg alone)
        combined += AudioSegment.from_file(block["path"], format="mp3", codec="mp3")
        combined += AudioSegment.silent(duration=block["pause_ms"], frame_rate=combined.frame_rate)
    combined.export(spec["out"], format="mp3", bitrate="64k")
    seconds = time.perf_counter() - started
    peak = peak_mb()  # the Python process holding the PCM; ffmpeg children come and go
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "delta_mb": peak - base}))


if __name__ == "__main__":
    main()
