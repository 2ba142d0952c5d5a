"""Where each character the SSML compiler (utils/text/ssml.py) says came from in the document,
and where its `<mark>`s fall in what is said.

Speech marks give offsets into the SSML as sent (as Amazon Polly does), and a mark must be found
again in the spoken text once tags are gone and spaces tidied. So the document is read with the
byte offset of every piece of text (expat reports each event's offset; a text node arrives in
pieces, split at entities and line ends), element texts and tails become LocatedStr (a str that
knows each character's (start, end) bytes), and every step of the compiler that builds or
tidies a segment's text carries a list of spans beside it. Text that stands for an element
(a `<sub>` alias, a `<say-as>` said in words) spans the whole element.
"""

from __future__ import annotations

import bisect
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace

from utils.text.source_map import TextMark
from utils.text.ssml_parser import _Positions, parse

Span = tuple[int, int]
_WORD = re.compile(r"\S+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+(?=[.,!?;:])")


class LocatedStr(str):
    """A str with each character's (start, end) UTF-8 bytes in the document."""

    spans: list[Span]

    def __new__(cls, text: str, spans: list[Span]) -> LocatedStr:
        made = super().__new__(cls, text)
        made.spans = spans
        return made


@dataclass
class Located:
    """What the located parse found beyond the tree: each element's bytes."""

    document: bytes
    elements: dict[int, Span] = field(default_factory=dict)

    def of(self, element: ET.Element) -> Span | None:
        return self.elements.get(id(element))


class _LocatedBuilder(_Positions):
    def ready(self) -> None:
        # one event per piece of text (split at entities and line ends), each with its offset
        self.parser.parser.buffer_text = False
        self.events: list[int] = []
        self.chunks: list[tuple[ET.Element, str, int, str]] = []  # element, slot, event, data
        self.slot: tuple[ET.Element, str] | None = None
        self.starts: dict[int, int] = {}
        self.ends: dict[int, int] = {}  # element -> index of the event after its end
        self.closing: ET.Element | None = None

    def _event(self) -> int:
        self.events.append(self.parser.parser.CurrentByteIndex)
        if self.closing is not None:
            self.ends[id(self.closing)] = len(self.events) - 1
            self.closing = None
        return len(self.events) - 1

    def start(self, tag, attrs):
        event = self._event()
        element = super().start(tag, attrs)
        self.starts[id(element)] = self.events[event]
        self.slot = (element, "text")
        return element

    def end(self, tag):
        self._event()
        element = super().end(tag)
        self.slot, self.closing = (element, "tail"), element
        return element

    def data(self, data):
        event = self._event()
        if self.slot is not None:
            self.chunks.append((*self.slot, event, data))
        return super().data(data)

    def comment(self, text):
        self._event()
        return super().comment(text)

    def pi(self, target, text=None):
        self._event()
        return super().pi(target, text)


def parse_located(document: str) -> tuple[ET.Element, dict[int, tuple[int, int]], Located]:
    """parse() (utils/text/ssml_parser.py), with texts and tails as LocatedStr."""
    builder = _LocatedBuilder()
    root, positions = parse(document, builder)
    raw = document.encode()
    at = [*builder.events, len(raw)]
    pieces: dict[tuple[int, str], list[tuple[str, list[Span]]]] = {}
    owners: dict[int, ET.Element] = {}
    for element, slot, event, data in builder.chunks:
        start, after = at[event], at[event + 1]
        encoded = data.encode()
        end = start + len(encoded)
        if raw[start:end] == encoded and (after == end or raw[end : end + 1] == b"<"):
            spans, cursor = [], start  # copied as written
            for ch in data:
                width = len(ch.encode())
                spans.append((cursor, cursor + width))
                cursor += width
        else:  # an entity or a line end the parser changed: the whole piece
            spans = [(start, after)] * len(data)
        pieces.setdefault((id(element), slot), []).append((data, spans))
        owners[id(element)] = element
    for (key, slot), parts in pieces.items():
        element = owners[key]
        text = "".join(p for p, _ in parts)
        if getattr(element, slot) == text:
            setattr(element, slot, LocatedStr(text, [s for _, spans in parts for s in spans]))
    located = Located(raw)
    for key, start in builder.starts.items():
        end_event = builder.ends.get(key)
        located.elements[key] = (start, at[end_event] if end_event is not None else len(raw))
    return root, positions, located


def standing_for(text: str, located: Located | None, element: ET.Element) -> str:
    """`text` said for `element` (an alias, a number in words): every character spans it."""
    span = located.of(element) if located else None
    return LocatedStr(text, [span] * len(text)) if span else text


def _spans_of(text: str, after: Span) -> list[Span]:
    spans = getattr(text, "spans", None)
    if spans is not None and len(spans) == len(text):
        return list(spans)
    return [(after[1], after[1])] * len(text)  # made by the compiler: no width of its own


def extend(segment, text: str, marks: list[TextMark] | None = None) -> None:
    """Add `text` to a segment (utils/text/ssml.py Segment) with its spans; `marks` waiting to
    be placed are placed where the text begins (and the list emptied)."""
    if len(segment.spans) != len(segment.text):  # text changed by a step that kept no spans
        segment.spans = _spans_of(segment.text, (0, 0))
    if marks:
        segment.marks += [replace(m, char=len(segment.text)) for m in marks]
        marks.clear()
    last = segment.spans[-1] if segment.spans else (0, 0)
    segment.spans += _spans_of(text, last)
    segment.text += text


def place_at_end(segment, marks: list[TextMark]) -> None:
    """Marks waiting for words that never came (before a pause, at the end): at the end."""
    segment.marks += [replace(m, char=len(segment.text)) for m in marks]
    marks.clear()


def tidied(text: str) -> tuple[str, list[int]]:
    """re.sub(r"\\s+([.,!?;:])", r"\\1", " ".join(text.split())), and for each character of
    the result the index of the character of `text` it was (a space: the run's last)."""
    chars: list[tuple[str, int]] = []
    for k, match in enumerate(_WORD.finditer(text)):
        if k:
            chars.append((" ", match.start() - 1))
        chars += [(ch, match.start() + i) for i, ch in enumerate(match.group())]
    joined = "".join(ch for ch, _ in chars)
    dropped = {m.start() for m in _SPACE_BEFORE_PUNCTUATION.finditer(joined)}
    kept = [pair for i, pair in enumerate(chars) if i not in dropped]
    return "".join(ch for ch, _ in kept), [origin for _, origin in kept]


def tidy_segment(segment) -> None:
    """The segment's text tidied as utils/text/ssml.py always has, its spans and marks moved
    with it: a mark goes before the first character kept at or after its place."""
    text, origins = tidied(segment.text)
    spans = _spans_of(LocatedStr(segment.text, segment.spans), (0, 0))
    segment.marks = [replace(m, char=bisect.bisect_left(origins, m.char)) for m in segment.marks]
    segment.spans = [spans[i] for i in origins]
    segment.text = text


def carry_marks(dropped, into) -> None:
    """A segment dropped (nothing to say): its marks go to the end of the one before it."""
    into.marks += [replace(m, char=len(into.text)) for m in dropped.marks]
