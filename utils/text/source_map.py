"""Where a block's text was in the input as the client sent it, and the SSML marks it holds.

Speech marks (utils/text/speech_marks.py) give each sentence and word as UTF-8 byte offsets into
the input as sent, as Amazon Polly does; a block's text is not that input: it was stripped, or
compiled out of SSML (tags dropped, spaces tidied, `<sub>` and `<say-as>` said as words). So
each block carries a SourceMap made at submit, when the input is at hand, and keeps it for as
long as the job lives.

A map is a few runs, not a table per character:

    literal  characters copied as they were: each one's bytes follow from the text itself
    opaque   characters made from something else (an entity, `&amp;`; a `<sub>` alias; a
             number said in words): every one of them stands for the whole of that source

Stored on the block's hash as JSON (utils/jobs/store.py), `[[char, byte_start, byte_end,
literal], ...]`; a block stored before maps were kept has none, and its offsets are taken as
those of its own text (utils/text/speech_marks.py says how).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Run:
    char: int  # first character of the block's text it covers (to the next run's)
    start: int  # UTF-8 byte offsets in the input as sent
    end: int
    literal: bool


@dataclass(frozen=True)
class SourceMap:
    runs: tuple[Run, ...]

    @classmethod
    def plain(cls, text: str, at: int) -> SourceMap:
        """Text sent as it is, starting `at` bytes into the input."""
        return cls((Run(0, at, at + len(text.encode()), True),))

    @classmethod
    def from_spans(cls, text: str, spans: Sequence[tuple[int, int]]) -> SourceMap:
        """From each character's own (start, end) bytes; consecutive characters copied as they
        were become one literal run, characters of one source one opaque run."""
        runs: list[Run] = []
        for i, (ch, (start, end)) in enumerate(zip(text, spans, strict=True)):
            literal = end - start == len(ch.encode())
            last = runs[-1] if runs else None
            if last and literal and last.literal and last.end == start:
                runs[-1] = Run(last.char, last.start, end, True)
            elif (
                last
                and not literal
                and not last.literal
                and (last.start, last.end)
                == (
                    start,
                    end,
                )
            ):
                continue
            else:
                runs.append(Run(i, start, end, literal))
        return cls(tuple(runs))

    def shifted(self, by: int) -> SourceMap:
        return SourceMap(tuple(Run(r.char, r.start + by, r.end + by, r.literal) for r in self.runs))

    @cached_property
    def _starts(self) -> list[int]:
        return [run.char for run in self.runs]

    def _run_of(self, char: int) -> Run:
        at = bisect.bisect_right(self._starts, char) - 1
        return self.runs[max(at, 0)]

    def _byte(self, text: str, char: int, end: bool) -> int:
        run = self._run_of(char)
        if not run.literal:
            return run.end if end else run.start
        at = run.start + len(text[run.char : char].encode())
        return at + len(text[char].encode()) if end else at

    def bytes_of(self, text: str, start: int, end: int) -> tuple[int, int]:
        """The bytes of the input that characters [start, end) of `text` came from."""
        if not self.runs or not text:
            return 0, 0
        end = min(max(end, start + 1), len(text))
        start = min(start, end - 1)
        return self._byte(text, start, False), self._byte(text, end - 1, True)

    def to_json(self) -> str:
        rows = [[r.char, r.start, r.end, int(r.literal)] for r in self.runs]
        return json.dumps(rows, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> SourceMap:
        return cls(tuple(Run(c, s, e, bool(lit)) for c, s, e, lit in json.loads(raw)))


@dataclass(frozen=True)
class TextMark:
    """An SSML `<mark name>`: at character `char` of the block's text (the next word there is
    spoken when it is reached), written at bytes [start, end) of the input as sent."""

    name: str
    char: int
    start: int = 0
    end: int = 0


def marks_to_json(marks: Sequence[TextMark]) -> str:
    return json.dumps([[m.name, m.char, m.start, m.end] for m in marks], separators=(",", ":"))


def marks_from_json(raw: str) -> tuple[TextMark, ...]:
    return tuple(TextMark(name, char, start, end) for name, char, start, end in json.loads(raw))
