"""Lexicons without the service: PLS read safely, X-SAMPA, matching as PLS says, offsets back
to the user's words, what each kind of provider is given."""

from __future__ import annotations

import pytest

from utils.audio.marks import Marks, Source, Span
from utils.lexicons.apply import Compiler, Target
from utils.lexicons.inline import inline_phoneme
from utils.lexicons.pls import LexiconError, from_json, from_pls, to_pls
from utils.lexicons.rules import Matcher, apply, decode_spans, to_written, written_marks
from utils.lexicons.store import Stored
from utils.lexicons.voicing import CannotSay, to_voice
from utils.lexicons.xsampa import XSampaError, to_ipa

PLS = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
         alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>SQL</grapheme><alias>sequel</alias></lexeme>
  <lexeme><grapheme>Nguyen</grapheme><phoneme>wɪn</phoneme></lexeme>
  <lexeme><grapheme>New York</grapheme><alias>the big apple</alias></lexeme>
  <lexeme><grapheme>New</grapheme><alias>knew</alias></lexeme>
  <lexeme><grapheme>Tomato</grapheme><phoneme alphabet="x-sampa">t@"mA:toU</phoneme></lexeme>
</lexicon>"""


def _stored(lexicon, version="1"):
    return Stored(lexicon.name, lexicon.language, tuple(lexicon.rules), version, 1, 0.0, "alice")


def test_pls_is_read_with_its_alphabets_and_written_back():
    lexicon = from_pls("names", PLS)
    by = {r.grapheme: r for r in lexicon.rules}
    assert by["SQL"].alias == "sequel"
    assert by["Nguyen"].phoneme == "wɪn"
    assert by["Tomato"].phoneme == "təˈmɑːtoʊ" and by["Tomato"].alphabet == "x-sampa"
    again = from_pls("names", to_pls(lexicon))
    assert again.rules == lexicon.rules


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ("<lexicon><lexeme>", "not well-formed"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><lexicon/>', "DTDs"),
        ("<speak/>", "root element"),
        ('<lexicon alphabet="klingon"><lexeme><grapheme>a</grapheme><phoneme>x</phoneme>'
         "</lexeme></lexicon>", "allowed: ipa, x-sampa"),
        ("<lexicon></lexicon>", "at least one"),
    ],
)  # fmt: skip
def test_bad_pls_is_refused_naming_why(document, says):
    with pytest.raises(LexiconError) as refused:
        from_pls("names", document)
    assert says in str(refused.value)


def test_json_rules_are_checked_field_by_field():
    with pytest.raises(LexiconError, match=r"rules\[1\]\.alphabet.*allowed: ipa, x-sampa"):
        from_json("n", "en-US", [{"grapheme": "a", "alias": "b"}, {"grapheme": "c",
                                 "phoneme": "x", "alphabet": "arpabet"}])  # fmt: skip
    with pytest.raises(LexiconError, match=r"rules\[0\].*alias or a phoneme"):
        from_json("n", "en-US", [{"grapheme": "a"}])
    with pytest.raises(LexiconError, match="name"):
        from_json("no spaces", "en-US", [{"grapheme": "a", "alias": "b"}])


def test_xsampa_to_ipa():
    assert to_ipa('n"gwIn') == "nˈɡwɪn"
    assert to_ipa("r\\`@`") == "ɻɚ"
    with pytest.raises(XSampaError, match="'\\$'"):
        to_ipa("a$")


def test_matching_is_exact_whole_words_longest_first():
    lexicon = from_pls("names", PLS)
    matcher = Matcher(lexicon.rules)
    text = "MySQL and SQL, sql. New York is New. Newton"
    found = [(text[a:b], r.grapheme) for a, b, r in matcher.find(text)]
    assert found == [("SQL", "SQL"), ("New York", "New York"), ("New", "New")]


def test_offsets_map_back_to_the_words_written():
    lexicon = from_pls("names", PLS)
    text = "I like SQL a lot."
    applied = apply(text, Matcher(lexicon.rules).find(text), lambda r: r.alias)
    assert applied.text == "I like sequel a lot."
    spans = decode_spans(applied.encoded())
    sequel = applied.text.index("sequel")
    assert to_written(spans, sequel, False) == text.index("SQL")
    assert to_written(spans, sequel + len("sequel"), True) == text.index("SQL") + 3
    a = applied.text.index("a lot")
    assert text[to_written(spans, a, False) :].startswith("a lot")
    marks = Marks(Source.ALIGNED, (Span(0, len(applied.text), 0, 100),),
                  (Span(sequel, sequel + 6, 10, 20), Span(a, a + 1, 20, 30)))  # fmt: skip
    moved = written_marks(marks, spans)
    assert [text[w.char_start : w.char_end] for w in moved.words] == ["SQL", "a"]
    assert moved.sentences[0].char_end == len(text)


def test_an_alias_of_several_words_is_one_written_word():
    lexicon = from_pls("names", PLS)
    text = "In New York today."
    applied = apply(text, Matcher(lexicon.rules).find(text), lambda r: r.alias)
    words = [(applied.text.index(w), applied.text.index(w) + len(w)) for w in ("big", "apple")]
    marks = Marks(Source.ALIGNED, (), tuple(Span(a, b, 10 * a, 10 * b) for a, b in words))
    moved = written_marks(marks, decode_spans(applied.encoded()))
    assert [(text[w.char_start : w.char_end]) for w in moved.words] == ["New York"]


def test_each_provider_kind_is_given_what_it_can_say():
    compiler = Compiler([_stored(from_pls("names", PLS))])
    text = "Ask Nguyen about SQL."
    piper = compiler.say(text, Target("piper", "v", True, frozenset("wɪnaskbot ")))
    assert piper.applied.text == "Ask [[ wɪn ]] about sequel."
    assert piper.lexicons == "alice/names@1"
    with pytest.raises(CannotSay, match="provider 'openai' takes text only"):
        compiler.say(text, Target("openai", "alloy", False))
    assert compiler.say("About SQL.", Target("openai", "alloy", False)).applied.text == (
        "About sequel."
    )
    with pytest.raises(CannotSay, match="no phoneme 'ɪ'"):
        compiler.say(text, Target("piper", "v2", True, frozenset("wn ")))


def test_inline_phonemes_come_first_and_leave_the_words_written():
    compiler = Compiler([])
    text = f"Say {inline_phoneme('təˈmɑːtoʊ', 'tomato')} please."
    said = compiler.say(text, Target("kokoro", "af", True, None))
    assert said.text == "Say tomato please."
    assert said.applied.text == "Say [[ təˈmɑːtoʊ ]] please."


def test_ipa_is_mapped_to_the_voices_symbols():
    assert to_voice("ˈsiː.kwəl", frozenset("ˈsiːkwəl")) == "ˈsiːkwəl"
    assert to_voice("ɡo", frozenset("go")) == "go"
    assert to_voice("tʃ", frozenset("ʧ")) == "ʧ"


def test_a_second_request_with_the_same_lexicons_names_them_too():
    """The matcher is shared by requests with the same lexicon versions: the lexicons that
    applied (part of the audio cache's key) are still named for each."""
    target = Target("openai", "alloy", False)
    first = Compiler([_stored(from_pls("names", PLS), version="7")]).say("About SQL.", target)
    again = Compiler([_stored(from_pls("names", PLS), version="7")]).say("About SQL.", target)
    assert first.lexicons == again.lexicons == "alice/names@7"
