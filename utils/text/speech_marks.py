"""A job's timings as Amazon Polly's speech marks: JSON lines a Polly client already reads.

One object per line, ordered by time (at the same time: the sentence, then marks, then the
word they announce):

    {"time": 1200, "type": "word", "start": 13, "end": 18, "value": "naïve"}

`time` is ms in the final audio; `start` and `end` are UTF-8 byte offsets into the input as the
client sent it, so `input.encode()[start:end]` is the word as written:

    ssml job          the SSML document (`ssml`), as Polly does for SSML; a word said for an
                      element (a `<sub>` alias, a `<say-as>` number) spans the whole element
    blocks job        the blocks' `text` values joined by "\\n", in order (a block that is SSML:
                      its document, in that place)
    ssml marks        type "ssml": `value` is the mark's name, start/end the `<mark>` tag

`value` of a sentence or word is the text spoken (the alias, the number in words). Blocks
stored before source maps were kept have their offsets taken from their own text, joined by
"\\n" in order: right for plain text sent without surrounding spaces.
"""

from __future__ import annotations

import json

from utils.audio.mark_times import TimedMark
from utils.audio.timings import Timed
from utils.jobs.models import JobRecord
from utils.text.source_map import SourceMap

CONTENT_TYPE = "application/x-json-stream"
_ORDER = {"sentence": 0, "ssml": 1, "word": 2}


def _maps(job: JobRecord) -> dict[int, SourceMap]:
    """Each block's map; for a block stored without one, its text where it would be if the
    blocks' texts were the input, joined by "\\n"."""
    maps, at = {}, 0
    for block in job.blocks:
        text = block.spec.text
        maps[block.index] = block.spec.source_map or SourceMap.plain(text, at)
        at += len(text.encode()) + 1
    return maps


def speech_marks(
    job: JobRecord, sentences: list[Timed], words: list[Timed], marks: list[TimedMark]
) -> list[dict]:
    """The job's speech marks, in order: by time (a job not combined: by block, then time)."""
    maps = _maps(job)
    texts = {block.index: block.spec.text for block in job.blocks}
    rows = []
    for kind, items in (("sentence", sentences), ("word", words)):
        for item in items:
            start, end = maps[item.block].bytes_of(texts[item.block], *item.chars)
            rows.append((item.block, item.start_ms, kind, start, end, item.text))
    for mark in marks:
        rows.append((mark.block, mark.start_ms, "ssml", mark.mark.start, mark.mark.end, mark.name))
    by_block = not job.combine
    rows.sort(key=lambda r: (r[0] if by_block else 0, r[1], _ORDER[r[2]], r[3]))
    return [
        {"time": time, "type": kind, "start": start, "end": end, "value": value}
        for _, time, kind, start, end, value in rows
    ]


def to_json_lines(marks: list[dict]) -> str:
    return "".join(json.dumps(m, ensure_ascii=False, separators=(",", ":")) + "\n" for m in marks)
