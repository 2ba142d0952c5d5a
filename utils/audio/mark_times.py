"""When each SSML `<mark>` of a job is reached in its final audio.

A mark sits at a place in its block's text (utils/text/ssml_source.py put it there at submit,
before the words it precedes). Its time comes from the best timing the block has, and
`source` says which:

    word      the start of the next word (a mark after the last word: that word's end), where
              the provider times words (ElevenLabs, Kokoro, any provider whose marks have words)
    sentence  within its sentence by characters, from the sentence's start and end
    block     the block's start (a mark before any text) or its end

Nothing about marks is stored with a block's audio: they come from the job (BlockSpec.marks),
so audio made or cached before marks existed serves them as well.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from utils.audio.timings import Timed, block_span_ms
from utils.jobs.models import JobRecord
from utils.text.source_map import TextMark


@dataclass(frozen=True)
class TimedMark:
    block: int
    name: str
    start_ms: int
    source: str  # word, sentence or block
    char: int  # where it is in the block's text
    mark: TextMark  # as stored: where it was written in the input


def _in_sentences(char: int, sentences: list[Timed]) -> int | None:
    for sentence in sentences:
        start, end = sentence.chars
        if char < start:  # between sentences: where the next begins
            return sentence.start_ms
        if char < end:
            share = (char - start) / ((end - start) or 1)
            return sentence.start_ms + round(share * (sentence.end_ms - sentence.start_ms))
    return sentences[-1].end_ms if sentences else None


def _at(char: int, words: list[Timed], sentences: list[Timed], span: tuple[int, int]):
    if words:
        starts = [w.chars[0] for w in words]
        after = bisect.bisect_left(starts, char)
        if after < len(words):
            return words[after].start_ms, "word"
        return words[-1].end_ms, "word"
    if (ms := _in_sentences(char, sentences)) is not None:
        return ms, "sentence"
    return (span[0] if char == 0 else span[1]), "block"


def mark_times(job: JobRecord, sentences: list[Timed], words: list[Timed]) -> list[TimedMark]:
    """Every mark of the job, in the order written (which is the order heard)."""
    by_block: dict[int, tuple[list[Timed], list[Timed]]] = {}
    for sentence in sentences:
        by_block.setdefault(sentence.block, ([], []))[0].append(sentence)
    for word in words:
        by_block.setdefault(word.block, ([], []))[1].append(word)
    timed = []
    for block in job.blocks:
        if not block.spec.marks:
            continue
        own_sentences, own_words = by_block.get(block.index, ([], []))
        own_words = sorted(own_words, key=lambda w: w.chars[0])
        span = block_span_ms(job, block)
        for mark in block.spec.marks:
            ms, source = _at(mark.char, own_words, own_sentences, span)
            timed.append(TimedMark(block.index, mark.name, ms, source, mark.char, mark))
    return timed
