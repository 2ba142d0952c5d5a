"""SSML compiled with each spoken character's place in the document, and marks kept."""

from __future__ import annotations

import re

import pytest

from utils.jobs.models import BlockRecord
from utils.text.source_map import SourceMap, TextMark, marks_to_json
from utils.text.ssml import compile_ssml
from utils.text.ssml_source import tidied


@pytest.mark.parametrize(
    "text",
    ["  a  b ,c . d\n\te !", "x", "", " \u00a0Zoë\u2003naïve ; café  ", "a\x1cb , , c"],
)
def test_tidying_keeps_the_compilers_result_and_says_where_each_character_was(text):
    result, origins = tidied(text)
    assert result == re.sub(r"\s+([.,!?;:])", r"\1", " ".join(text.split()))
    assert all(text[o] == ch or ch == " " for ch, o in zip(result, origins, strict=True))
    assert origins == sorted(origins)


def test_words_map_to_their_bytes_through_entities_line_ends_and_aliases():
    document = (
        '<speak>Zoë &amp; naïve\r\n café. <break time="1s"/><mark name="m"/>'
        '<sub alias="two words">2w</sub> <say-as interpret-as="cardinal">7</say-as>'
        '<mark name="end"/></speak>'
    )
    raw = document.encode()
    segments, _ = compile_ssml(document)
    assert [s.text for s in segments] == ["Zoë & naïve café.", "two words seven"]
    first, second = segments
    source = SourceMap.from_spans(first.text, first.spans)
    spoken = [
        raw[slice(*source.bytes_of(first.text, *m.span()))] for m in re.finditer(r"\S+", first.text)
    ]
    assert spoken == ["Zoë".encode(), b"&amp;", "naïve".encode(), "café.".encode()]
    assert [(m.name, m.char) for m in second.marks] == [("m", 0), ("end", len(second.text))]
    assert raw[second.marks[0].start : second.marks[0].end] == b'<mark name="m"/>'


def test_a_mark_needs_a_name():
    from utils.text.ssml_parser import SSMLError

    with pytest.raises(SSMLError, match="name"):
        compile_ssml("<speak>Hi <mark/> there</speak>")


def test_blocks_stored_before_marks_still_read_and_new_ones_round_trip():
    raw = {"text": "Hi.", "provider": "piper", "voice": "v", "status": "completed"}
    assert BlockRecord.from_hash(0, raw).spec.marks == ()
    assert BlockRecord.from_hash(0, raw).spec.source_map is None
    marks = (TextMark("a", 1, 5, 20),)
    source = SourceMap.plain("Hi.", 4)
    stored = {**raw, "marks": marks_to_json(marks), "source_map": source.to_json()}
    spec = BlockRecord.from_hash(0, stored).spec
    assert spec.marks == marks and spec.source_map == source
