"""The combine with chapters, timed in a process of its own:
`python -m bench.stitch_longform < spec.json` (spec from bench/longform_bench.py).

`mp3`: the ID3 tag (title, chapters) then the frames, as workers/combine.py writes them; `m4b`:
the leveled PCM timeline through one AAC encoder with MP4 chapters, then its true peak checked
(and the file encoded again where it passed the ceiling), as workers/combine_encoded.py.
Prints seconds and peak memory.
"""

from __future__ import annotations

import json
import sys
import time
from functools import partial
from pathlib import Path

from bench.peak_memory import peak_mb
from utils.audio.encoders import encode_file
from utils.audio.formats import OutputFormat
from utils.audio.mp3_frames import silence_frame
from utils.audio.pcm_pieces import read_pcm, silence
from utils.audio.peak_guard import dipped, keep_under_ceiling
from utils.audio.tags import FileTags, chapter_marks, id3_tag
from utils.audio.timeline import plan_pcm_timeline, plan_timeline
from workers.combine import write_stitched

MP3 = OutputFormat.parse("mp3_24000_64")
M4B = OutputFormat.parse("m4b_24000_64")
CHAPTER_EVERY = 10


def _child(spec: dict) -> dict:
    """One combine in this process: `mp3` (tag + frames) or `m4b` (one encoder, chapters)."""
    blocks, base = spec["blocks"], peak_mb()
    started = time.perf_counter()
    titles = [f"Chapter {i // CHAPTER_EVERY + 1}" if i % CHAPTER_EVERY == 0 else None
              for i in range(len(blocks))]  # fmt: skip
    if spec["kind"] == "mp3":
        timeline = plan_timeline(
            [(b["n_samples"], b["n_frames"], b["pause_ms"]) for b in blocks], MP3
        )
        starts = [timeline.ms(p.start_sample) for p in timeline.blocks]
        total = timeline.ms(timeline.total_samples)
        tags = FileTags("Bench", "Bench", None, chapter_marks(titles, starts, total), total)
        with open(spec["out"], "wb") as out:
            out.write(id3_tag(tags))
            write_stitched(out, [partial(open, b["path"], "rb") for b in blocks], timeline,
                           silence_frame(MP3))  # fmt: skip
    else:
        timeline = plan_pcm_timeline(
            [(b["n_samples"], b["pause_ms"]) for b in blocks], M4B.sample_rate
        )
        starts = [timeline.ms(p.start_sample) for p in timeline.blocks]
        total = timeline.ms(timeline.total_samples)
        tags = FileTags("Bench", "Bench", None, chapter_marks(titles, starts, total), total)
        ends = [p.start_sample for p in timeline.blocks[1:]] + [timeline.total_samples]

        def pieces():
            for block, placed, next_start in zip(blocks, timeline.blocks, ends, strict=True):
                with open(block["pcm"], "rb") as source:
                    yield from read_pcm(source)
                yield from silence(next_start - placed.end_sample)

        path = Path(spec["out"])
        encode_file(M4B, pieces(), path, tags)
        encoded = time.perf_counter()
        # as the combine does for a job with a loudness target: the file's own true peak
        dips = keep_under_ceiling(
            path,
            M4B.sample_rate,
            spec["ceiling_db"],
            lambda dips: encode_file(M4B, dipped(pieces(), dips), path, tags),
        )
        guard = {"guard_seconds": time.perf_counter() - encoded, "dips": len(dips)}
        return {
            "seconds": time.perf_counter() - started,
            "peak_mb": peak_mb(),
            "delta_mb": peak_mb() - base,
            **guard,
        }
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": peak_mb(), "delta_mb": peak_mb() - base}


if __name__ == "__main__":
    print(json.dumps(_child(json.loads(sys.stdin.read()))))
