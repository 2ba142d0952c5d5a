"""SSML compiled into segments: exact pauses, voices, languages, prosody, say-as, and refusals
that name the line, the column and what is allowed."""

from __future__ import annotations

import pytest

from utils.text.ssml import SUPPORTED, SSMLError, compile_ssml
from utils.text.ssml_parser import MAX_ELEMENTS

NS = 'xmlns="http://www.w3.org/2001/10/synthesis" version="1.1" xml:lang="en-US"'


def texts(document: str) -> list[tuple[str, int]]:
    return [(s.text, s.wait_after_ms) for s in compile_ssml(document)[0]]


def test_breaks_become_exact_pauses_and_merge():
    doc = (
        f'<speak {NS}>One.<break time="750ms"/>Two.<break time="1.5s"/><break time="20ms"/>'
        'Three.<break strength="x-strong"/>Four.<break/>Five.</speak>'
    )
    assert texts(doc) == [
        ("One.", 750),
        ("Two.", 1520),
        ("Three.", 1200),
        ("Four.", 500),
        ("Five.", 0),
    ]


def test_each_change_of_voice_language_rate_or_volume_is_a_segment_of_its_own():
    doc = (
        f'<speak {NS}><p>Plain start. <prosody rate="150%" volume="+6dB">Quick and loud.'
        '<prosody rate="+10%">Quicker.</prosody></prosody> <voice name="piper/other">Other.'
        '</voice><lang xml:lang="de-DE">Hallo.</lang></p></speak>'
    )
    segments, lead = compile_ssml(doc)
    assert lead == 0
    assert [s.text for s in segments] == [
        "Plain start.", "Quick and loud.", "Quicker.", "Other.", "Hallo.",
    ]  # fmt: skip
    rates = [round(s.voicing.rate, 3) for s in segments]
    assert rates == [1.0, 1.5, 1.65, 1.0, 1.0]
    assert [s.voicing.volume_db for s in segments] == [0.0, 6.0, 6.0, 0.0, 0.0]
    assert segments[3].voicing.voice == "piper/other"
    assert [s.voicing.language for s in segments] == ["en-US"] * 4 + ["de-DE"]


def test_sub_say_as_and_emphasis():
    doc = (
        f'<speak {NS}><sub alias="World Wide Web">WWW</sub> on '
        '<say-as interpret-as="date" format="mdy">12/25/2024</say-as>, the '
        '<say-as interpret-as="ordinal">21</say-as> call to '
        '<say-as interpret-as="telephone">+1 555-0100</say-as> spelt '
        '<say-as interpret-as="characters">TTS</say-as>, <say-as interpret-as="cardinal">'
        '1,204</say-as> times. <emphasis level="strong">Never</emphasis> again.</speak>'
    )
    segments, _ = compile_ssml(doc)
    assert segments[0].text == (
        "World Wide Web on December twenty-fifth, twenty twenty-four, the twenty-first call to "
        "plus, 1, 5 5 5, 0 1 0 0 spelt T T S, one thousand, two hundred and four times."
    )
    assert segments[1].text == "Never" and segments[1].voicing.rate < 1
    assert segments[1].voicing.volume_db > 0 and segments[2].text == "again."


def test_numbers_follow_the_language():
    doc = '<speak xml:lang="de-DE"><say-as interpret-as="cardinal">42</say-as> Tage.</speak>'
    assert texts(doc) == [("zweiundvierzig Tage.", 0)]


def test_a_break_before_any_speech_is_reported_apart():
    segments, lead = compile_ssml('<speak><break time="300ms"/>Late start.</speak>')
    assert lead == 300 and [s.text for s in segments] == ["Late start."]


@pytest.mark.parametrize(
    ("document", "where", "words"),
    [
        ("<speak>Hi <foo/></speak>", (1, 11), ", ".join(SUPPORTED)),
        ("<speak>\n  <break time='soon'/></speak>", (2, 3), "500ms or 1.5s"),
        ("<speak>\n<prosody rate='warp'>x</prosody></speak>", (2, 1), "x-slow, slow"),
        ("<speak><say-as interpret-as='money'>3</say-as></speak>", (1, 8), "telephone"),
        ("<speak><say-as interpret-as='date' format='dmy'>2024</say-as></speak>", (1, 8), "dmy"),
        ("<speak>unclosed <p></speak>", (1, 22), "mismatched tag"),
        ("<p>Not speak.</p>", (1, 1), "root element must be <speak>"),
        ("<speak><voice>nameless</voice></speak>", (1, 8), "name attribute"),
    ],
)
def test_invalid_ssml_names_line_column_and_what_is_allowed(document, where, words):
    with pytest.raises(SSMLError) as raised:
        compile_ssml(document)
    assert (raised.value.line, raised.value.column) == where
    assert words in str(raised.value)


BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + "]><speak>&lol9;</speak>"
)


@pytest.mark.parametrize(
    "document",
    [
        BOMB,
        '<!DOCTYPE speak SYSTEM "http://127.0.0.1:9/x.dtd"><speak>x</speak>',
        '<!DOCTYPE s [<!ENTITY e SYSTEM "file:///etc/passwd">]><speak>&e;</speak>',
    ],
)
def test_dtds_and_entities_are_refused_before_expansion(document):
    with pytest.raises(SSMLError, match="DTDs, entity declarations and external references"):
        compile_ssml(document)


def test_a_document_of_too_many_elements_is_refused_while_read():
    document = "<speak>" + 'a <break time="1ms"/>' * (2 * MAX_ELEMENTS) + "</speak>"
    assert len(document) > 400_000
    with pytest.raises(SSMLError, match=f"more than {MAX_ELEMENTS} elements"):
        compile_ssml(document)
