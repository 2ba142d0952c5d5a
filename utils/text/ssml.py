"""SSML 1.1 compiled, once at submit, into segments of plain text with exact pauses.

Each change of voice, language, rate or volume starts a segment of its own, and a `<break>`
ends one with its pause (seed 003's "SSML precompilation"): the job's blocks are then plain
text, made in parallel and cached like any other. What the providers would each interpret
differently (numbers, dates, emphasis) is decided here, once, the same for all of them.

The document is read by utils/text/ssml_parser.py (defusedxml: no DTD, no entities, positions
kept for errors). Supported elements are SUPPORTED; any other is refused with that list, at
its line and column.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace

from utils.text.say_as import SayAsError, say_as
from utils.text.source_map import TextMark
from utils.text.ssml_parser import SSMLError, local_name
from utils.text.ssml_pronunciation import (
    PRONUNCIATION_ELEMENTS,
    PronunciationHandlers,
    with_document_lexicons,
)
from utils.text.ssml_source import (
    Located,
    carry_marks,
    extend,
    parse_located,
    place_at_end,
    standing_for,
    tidy_segment,
)

SUPPORTED = (
    "speak", "p", "s", "break", "prosody", "voice", "lang", "sub", "say-as", "emphasis", "mark",
)  # fmt: skip
SUPPORTED += PRONUNCIATION_ELEMENTS  # utils/text/ssml_pronunciation.py
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MAX_DEPTH = 64

# SSML leaves these to the processor; ours, in ms and as multipliers, are the common choices.
BREAK_STRENGTH_MS = {
    "none": 0, "x-weak": 100, "weak": 250, "medium": 500, "strong": 800, "x-strong": 1200,
}  # fmt: skip
RATE_WORDS = {
    "x-slow": 0.6, "slow": 0.8, "medium": 1.0, "fast": 1.25, "x-fast": 1.5, "default": 1.0,
}  # fmt: skip
VOLUME_WORDS_DB = {
    "silent": -96.0, "x-soft": -12.0, "soft": -6.0, "medium": 0.0, "loud": 6.0, "x-loud": 10.0,
    "default": 0.0,
}  # fmt: skip
# <emphasis> approximated as slower and louder (reduced: quicker and softer)
EMPHASIS = {
    "strong": (0.85, 3.0), "moderate": (0.92, 1.5), "none": (1.0, 0.0), "reduced": (1.1, -3.0),
}  # fmt: skip


@dataclass(frozen=True)
class Voicing:
    """How text is spoken at a point in the document."""

    voice: str | None = None  # <voice name>
    language: str | None = None  # xml:lang, as written (en-US)
    rate: float = 1.0
    volume_db: float = 0.0
    lexicons: tuple[str, ...] = ()  # <lookup>: lexicons of the user's, by name


@dataclass
class Segment:
    text: str
    voicing: Voicing
    wait_after_ms: int = 0
    # each character's (start, end) bytes in the document, and the <mark>s in the text
    # (utils/text/ssml_source.py)
    spans: list[tuple[int, int]] = field(default_factory=list)
    marks: list[TextMark] = field(default_factory=list)


def looks_like_ssml(text: str) -> bool:
    return text.lstrip().startswith("<speak")


def _duration_ms(value: str) -> int | None:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*", value)
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    return round(number * (1000 if unit == "s" else 1))


def _rate(value: str, current: float) -> float | None:
    value = value.strip()
    if value in RATE_WORDS:
        return RATE_WORDS[value]
    if match := re.fullmatch(r"([+-]?\d+(?:\.\d+)?)%", value):
        number = float(match.group(1))
        relative = value[0] in "+-"
        return current * (1 + number / 100) if relative else number / 100
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return float(value)  # a multiplier, as SSML 1.1 allows
    return None


def _volume(value: str, current: float) -> float | None:
    value = value.strip()
    if value in VOLUME_WORDS_DB:
        return VOLUME_WORDS_DB[value]
    if match := re.fullmatch(r"([+-]\d+(?:\.\d+)?)dB", value):
        return current + float(match.group(1))
    return None


class _Compiler(PronunciationHandlers):
    located: Located | None = None  # where elements are in the document, for marks

    def __init__(self, positions: dict[int, tuple[int, int]]):
        self.positions = positions
        self.segments: list[Segment] = []
        self.lead_ms = 0  # a break before any speech
        self.waiting: list[TextMark] = []  # <mark>s not yet followed by words

    def error(self, element: ET.Element, message: str) -> SSMLError:
        return SSMLError(message, *self.positions.get(id(element), (None, None)))

    def text(self, text: str | None, voicing: Voicing) -> None:
        if not text or not text.strip():
            if text and self.segments and not self.segments[-1].wait_after_ms:
                extend(self.segments[-1], " " if len(text) != 1 else text)
            return
        last = self.segments[-1] if self.segments else None
        if not (last and last.voicing == voicing and not last.wait_after_ms):
            last = Segment("", voicing)
            self.segments.append(last)
        extend(last, text, self.waiting)

    def pause(self, ms: int) -> None:
        if self.segments:
            if not self.segments[-1].wait_after_ms:
                place_at_end(self.segments[-1], self.waiting)  # reached before the pause
            self.segments[-1].wait_after_ms += ms
        else:
            self.lead_ms += ms

    def element(self, element: ET.Element, voicing: Voicing, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self.error(element, f"elements nested deeper than {MAX_DEPTH}")
        name = local_name(element.tag)
        attrs = {
            local_name(k) if k != XML_LANG else "xml:lang": v for k, v in element.attrib.items()
        }
        if name not in SUPPORTED:
            raise self.error(
                element, f"element <{name}> is not supported; supported: {', '.join(SUPPORTED)}"
            )
        if "xml:lang" in attrs:
            voicing = replace(voicing, language=attrs["xml:lang"])
        handler = getattr(self, f"_{name.replace('-', '_')}", None)
        if handler is not None and handler(element, attrs, voicing, depth):
            return  # the handler took care of the element's content
        self.children(element, voicing, depth)

    def children(self, element: ET.Element, voicing: Voicing, depth: int) -> None:
        self.text(element.text, voicing)
        for child in element:
            self.element(child, voicing, depth + 1)
            self.text(child.tail, voicing)

    # Handlers: return True where they consumed the element's content themselves.

    def _speak(self, element, attrs, voicing, depth):
        if depth != 0:
            raise self.error(element, "<speak> may only be the root element")

    def _p(self, element, attrs, voicing, depth):
        self.text(" ", voicing)

    _s = _p

    def _break(self, element, attrs, voicing, depth):
        if "time" in attrs:
            ms = _duration_ms(attrs["time"])
            if ms is None:
                raise self.error(element, f"break time {attrs['time']!r}: use e.g. 500ms or 1.5s")
        else:
            strength = attrs.get("strength", "medium")
            if strength not in BREAK_STRENGTH_MS:
                allowed = ", ".join(BREAK_STRENGTH_MS)
                raise self.error(element, f"break strength {strength!r}; allowed: {allowed}")
            ms = BREAK_STRENGTH_MS[strength]
        self.pause(ms)
        return True

    def _prosody(self, element, attrs, voicing, depth):
        if "rate" in attrs:
            rate = _rate(attrs["rate"], voicing.rate)
            if rate is None or rate <= 0:
                raise self.error(
                    element,
                    f"prosody rate {attrs['rate']!r}: use x-slow, slow, medium, fast, x-fast, "
                    "a percentage (80%, +10%) or a multiplier (1.2)",
                )
            voicing = replace(voicing, rate=rate)
        if "volume" in attrs:
            volume = _volume(attrs["volume"], voicing.volume_db)
            if volume is None:
                raise self.error(
                    element,
                    f"prosody volume {attrs['volume']!r}: use silent, x-soft, soft, medium, "
                    "loud, x-loud or a change in dB (+6dB, -3dB)",
                )
            voicing = replace(voicing, volume_db=volume)
        # pitch, contour and range are accepted; no configured provider can apply them
        self.children(element, voicing, depth)
        return True

    def _voice(self, element, attrs, voicing, depth):
        name = attrs.get("name")
        if not name:
            raise self.error(element, "<voice> needs a name attribute (a voice id)")
        self.children(element, replace(voicing, voice=name), depth)
        return True

    def _lang(self, element, attrs, voicing, depth):
        if "xml:lang" not in attrs:
            raise self.error(element, "<lang> needs an xml:lang attribute (e.g. de-DE)")

    def _sub(self, element, attrs, voicing, depth):
        if "alias" not in attrs:
            raise self.error(element, "<sub> needs an alias attribute (what to say)")
        self.text(standing_for(attrs["alias"], self.located, element), voicing)
        return True

    def _say_as(self, element, attrs, voicing, depth):
        if len(element):
            raise self.error(element, "<say-as> holds text only")
        if "interpret-as" not in attrs:
            raise self.error(element, "<say-as> needs an interpret-as attribute")
        try:
            spoken = say_as(
                element.text or "", attrs["interpret-as"], attrs.get("format"), voicing.language
            )
        except SayAsError as exc:
            raise self.error(element, str(exc)) from None
        self.text(standing_for(f" {spoken} ", self.located, element), voicing)
        return True

    def _emphasis(self, element, attrs, voicing, depth):
        level = attrs.get("level", "moderate")
        if level not in EMPHASIS:
            raise self.error(element, f"emphasis level {level!r}; allowed: {', '.join(EMPHASIS)}")
        rate, gain = EMPHASIS[level]
        voicing = replace(voicing, rate=voicing.rate * rate, volume_db=voicing.volume_db + gain)
        self.children(element, voicing, depth)
        return True

    def _mark(self, element, attrs, voicing, depth):
        # a named point: nothing to say; placed where the next words begin
        if not attrs.get("name"):
            raise self.error(element, "<mark> needs a name attribute")
        start, end = self.located.of(element) or (0, 0) if self.located else (0, 0)
        self.waiting.append(TextMark(attrs["name"], 0, start, end))
        return True


def compile_ssml(document: str, base: Voicing | None = None) -> tuple[list[Segment], int]:
    """The document's segments (text tidied, with at least one letter or digit each, pauses
    merged), and the pause asked for before any speech (ms)."""
    root, positions, located = parse_located(document)
    if local_name(root.tag) != "speak":
        raise SSMLError(f"the root element must be <speak>, not <{local_name(root.tag)}>", 1, 1)
    compiler = _Compiler(positions)
    compiler.located = located
    compiler.element(root, base or Voicing(), 0)
    if compiler.segments:
        place_at_end(compiler.segments[-1], compiler.waiting)
    with_document_lexicons(compiler)
    segments: list[Segment] = []
    before: list[TextMark] = []  # marks of punctuation before any speech: at its start
    for segment in compiler.segments:
        # spaces tidied, none before punctuation (left where say-as and sub joined text)
        tidy_segment(segment)
        if any(ch.isalnum() for ch in segment.text):
            segment.marks[:0] = [replace(m, char=0) for m in before]
            before = []
            segments.append(segment)
        elif segments:  # punctuation alone: its pause joins the speech before it
            segments[-1].wait_after_ms += segment.wait_after_ms
            carry_marks(segment, segments[-1])
        else:
            compiler.lead_ms += segment.wait_after_ms
            before += segment.marks
    return segments, compiler.lead_ms
