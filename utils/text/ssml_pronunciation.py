"""SSML's pronunciation elements, handlers of the compiler in utils/text/ssml.py:

    <phoneme alphabet="ipa|x-sampa" ph="...">words</phoneme>   the words said by these phonemes
    <lexicon uri="names"/>                                     a lexicon of yours (POST
                                                               /lexicons) for the whole document
    <lookup ref="names">...</lookup>                           one for this part only; `ref` is
                                                               a <lexicon>'s xml:id, or a name

A <phoneme> is carried in its segment's text (utils/lexicons/inline.py) until the lexicons are
applied for the provider that says it; lexicons named are carried in the segment's Voicing.
"""

from __future__ import annotations

from dataclasses import replace

from utils.lexicons.inline import inline_phoneme
from utils.lexicons.pls import ALPHABETS, NAME_PATTERN
from utils.lexicons.xsampa import XSampaError, to_ipa

PRONUNCIATION_ELEMENTS = ("phoneme", "lexicon", "lookup")


def _lexicon_name(uri: str) -> str:
    """A lexicon's name as a uri may give it: names, lexicon:names, /lexicons/names.pls."""
    name = uri.strip().removeprefix("lexicon:").rstrip("/").rsplit("/", 1)[-1]
    return name.removesuffix(".pls")


class PronunciationHandlers:
    """Mixed into the compiler: `self.text`, `self.children`, `self.error` are its own."""

    declared: dict[str, str]  # xml:id -> lexicon name, in document order
    document_lexicons: list[str]

    def _declare(self) -> None:
        if not hasattr(self, "declared"):
            self.declared, self.document_lexicons = {}, []

    def _phoneme(self, element, attrs, voicing, depth):
        alphabet = attrs.get("alphabet", "ipa")
        if alphabet not in ALPHABETS:
            raise self.error(
                element, f"phoneme alphabet {alphabet!r}; allowed: {', '.join(ALPHABETS)}"
            )
        ph = attrs.get("ph", "").strip()
        if not ph:
            raise self.error(element, "<phoneme> needs a ph attribute (the phonemes)")
        if len(element):
            raise self.error(element, "<phoneme> holds text only")
        words = " ".join((element.text or "").split())
        if not words:
            raise self.error(element, "<phoneme> needs the words it says as its text")
        try:
            ipa = to_ipa(ph) if alphabet == "x-sampa" else ph
        except XSampaError as exc:
            raise self.error(element, f"phoneme ph: {exc}") from None
        self.text(inline_phoneme(ipa, words), voicing)
        return True

    def _lexicon(self, element, attrs, voicing, depth):
        self._declare()
        name = _lexicon_name(attrs.get("uri", ""))
        if not NAME_PATTERN.fullmatch(name):
            raise self.error(
                element, "<lexicon> needs a uri naming a lexicon of yours (GET /lexicons)"
            )
        if "id" in attrs:
            self.declared[attrs["id"]] = name
        if name not in self.document_lexicons:
            self.document_lexicons.append(name)
        return True

    def _lookup(self, element, attrs, voicing, depth):
        self._declare()
        ref = attrs.get("ref", "").strip()
        name = self.declared.get(ref) or _lexicon_name(ref)
        if not NAME_PATTERN.fullmatch(name):
            raise self.error(element, "<lookup> needs a ref: a <lexicon>'s xml:id or its name")
        lexicons = (name, *(n for n in voicing.lexicons if n != name))
        self.children(element, replace(voicing, lexicons=lexicons), depth)
        return True


def with_document_lexicons(compiler) -> None:
    """Each segment of `compiler` with the document's <lexicon>s after its own lookups."""
    named = getattr(compiler, "document_lexicons", [])
    for segment in compiler.segments if named else ():
        own = segment.voicing.lexicons
        extra = tuple(n for n in named if n not in own)
        segment.voicing = replace(segment.voicing, lexicons=(*own, *extra))
