"""Rules matched against a text and applied, with the map from the text said back to the text
written.

Matching is as PLS says: graphemes exactly as written (case-sensitive), whole words only (SQL
in "MySQL" is not SQL), the longest grapheme first where several start at one word, and of
rules with the same grapheme the first (the lexicons earlier in the request's list first).
A text is read once, word by word, each word looked up among the graphemes starting with it:
the cost grows with the text, not with the number of rules.

The text said differs from the text written where a rule applied; `Applied.spans` says where:
(said_start, said_end, written_start, written_end) for each replacement, so a provider's
marks (character offsets into what it was given) are moved back onto the user's words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from utils.audio.marks import Marks, Span
from utils.lexicons.pls import Rule

_TOKEN = re.compile(r"\w+|[^\w\s]")

Match = tuple[int, int, Rule]
SpanMap = tuple[tuple[int, int, int, int], ...]


def _wordy(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class Matcher:
    """Rules indexed by the first word of their grapheme, built once per set of lexicons."""

    def __init__(self, rules: Iterable[Rule]):
        self.by_first: dict[str, list[Rule]] = {}
        seen: set[str] = set()
        for rule in rules:
            if rule.grapheme in seen:
                continue  # an earlier lexicon's rule for it wins
            seen.add(rule.grapheme)
            first = _TOKEN.search(rule.grapheme)
            if first is not None:
                self.by_first.setdefault(first.group(), []).append(rule)
        for rules_here in self.by_first.values():
            rules_here.sort(key=lambda r: -len(r.grapheme))
        self.size = len(seen)

    def find(self, text: str, taken: Sequence[tuple[int, int]] = ()) -> list[Match]:
        """Where rules match `text`, left to right, none overlapping another or `taken`."""
        if not self.by_first:
            return []
        out: list[Match] = []
        after = 0  # no match starts before this
        taken = sorted(taken)
        t = 0
        for token in _TOKEN.finditer(text):
            start = token.start()
            if start < after:
                continue
            rules = self.by_first.get(token.group())
            if rules is None:
                continue
            while t < len(taken) and taken[t][1] <= start:
                t += 1
            if start > 0 and _wordy(text[start - 1]) and not _wordy(text[start]):
                continue  # ".NET" inside "ASP.NET"
            for rule in rules:
                end = start + len(rule.grapheme)
                if not text.startswith(rule.grapheme, start):
                    continue
                if end < len(text) and _wordy(text[end]) and _wordy(rule.grapheme[-1]):
                    continue  # not a whole word
                if t < len(taken) and taken[t][0] < end:
                    continue  # overlaps an inline <phoneme>
                out.append((start, end, rule))
                after = end
                break
        return out


@dataclass(frozen=True)
class Applied:
    text: str  # as said
    spans: SpanMap  # (said_start, said_end, written_start, written_end) per replacement

    def encoded(self) -> str:
        """The spans as a block's record keeps them: "a,b,c,d;..."."""
        return ";".join(",".join(map(str, span)) for span in self.spans)


def apply(text: str, matches: Sequence[Match], say: Callable[[Rule], str]) -> Applied:
    """`text` with each match replaced by what `say` makes of its rule."""
    pieces: list[str] = []
    spans = []
    cursor = said = 0
    for start, end, rule in sorted(matches, key=lambda m: m[0]):
        pieces.append(text[cursor:start])
        said += start - cursor
        replacement = say(rule)
        pieces.append(replacement)
        spans.append((said, said + len(replacement), start, end))
        said += len(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return Applied("".join(pieces), tuple(spans))


def decode_spans(encoded: str | None) -> SpanMap:
    if not encoded:
        return ()
    return tuple(tuple(int(x) for x in part.split(",")) for part in encoded.split(";"))  # type: ignore[misc]


def to_written(spans: SpanMap, position: int, is_end: bool) -> int:
    """A character offset into the text said, as an offset into the text written: inside a
    replacement, its start (or end, for the end of a range) in the text written."""
    shift = 0
    for said_start, said_end, written_start, written_end in spans:
        if position < said_start or (is_end and position == said_start):
            break
        if position < said_end or (is_end and position == said_end):
            return written_end if is_end else written_start
        shift = written_end - said_end
    return position + shift


def written_marks(marks: Marks, spans: SpanMap) -> Marks:
    """A provider's marks over the text said, moved onto the text written; words said for one
    written word (an alias of several words) become that one word."""

    def moved(items: tuple[Span, ...]) -> tuple[Span, ...]:
        out: list[Span] = []
        for span in items:
            a = to_written(spans, span.char_start, False)
            b = max(a, to_written(spans, span.char_end, True))
            if out and (out[-1].char_start, out[-1].char_end) == (a, b):
                last = out[-1]
                out[-1] = Span(a, b, min(last.start, span.start), max(last.end, span.end))
                continue
            out.append(Span(a, b, span.start, span.end))
        return tuple(out)

    return Marks(marks.source, moved(marks.sentences), moved(marks.words))
