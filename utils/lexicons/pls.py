"""A lexicon: W3C PLS 1.0 documents and JSON rules read into one shape, and written back.

PLS is read with defusedxml, as SSML is (utils/text/ssml_parser.py): no DTD, no entity
declarations, no external references, a bounded number of elements. A lexeme with several
graphemes is a rule per grapheme; of its pronunciations the first alias and the first phoneme
are kept (an engine that takes phonemes says the phoneme; others say the alias).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from utils.lexicons.xsampa import XSampaError, to_ipa

PLS_NS = "http://www.w3.org/2005/01/pronunciation-lexicon"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ALPHABETS = ("ipa", "x-sampa")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_ELEMENTS = 50_000
MAX_GRAPHEME_CHARS = 100
MAX_PRONUNCIATION_CHARS = 200


class LexiconError(ValueError):
    """A lexicon refused: `field` is where (rules[3].phoneme, document, name)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class Rule:
    """A written form, and how it is said: an alias (other words) and/or phonemes (IPA)."""

    grapheme: str
    alias: str | None = None
    phoneme: str | None = None  # in IPA, X-SAMPA already converted
    # the phonemes as written, and in which alphabet, for GET and PLS written back
    written: str | None = None
    alphabet: str = "ipa"

    def as_json(self) -> dict[str, str]:
        out = {"grapheme": self.grapheme}
        if self.alias is not None:
            out["alias"] = self.alias
        if self.phoneme is not None:
            out |= {"phoneme": self.written or self.phoneme, "alphabet": self.alphabet}
        return out


@dataclass
class Lexicon:
    name: str
    language: str = "en-US"
    rules: list[Rule] = field(default_factory=list)


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name or ""):
        raise LexiconError(
            "name", "1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    return name


def make_rule(where: str, grapheme: Any, alias: Any, phoneme: Any, alphabet: Any) -> Rule:
    """A rule checked: LexiconError naming `where` and the field."""
    if not isinstance(grapheme, str) or not grapheme.strip():
        raise LexiconError(f"{where}.grapheme", "a non-empty text is required")
    grapheme = " ".join(grapheme.split())
    if len(grapheme) > MAX_GRAPHEME_CHARS:
        raise LexiconError(f"{where}.grapheme", f"at most {MAX_GRAPHEME_CHARS} characters")
    if alias is None and phoneme is None:
        raise LexiconError(where, "give an alias or a phoneme")
    for name, value in (("alias", alias), ("phoneme", phoneme)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise LexiconError(f"{where}.{name}", "must be a non-empty text")
        if value is not None and len(value) > MAX_PRONUNCIATION_CHARS:
            raise LexiconError(f"{where}.{name}", f"at most {MAX_PRONUNCIATION_CHARS} characters")
    alphabet = alphabet or "ipa"
    if alphabet not in ALPHABETS:
        raise LexiconError(
            f"{where}.alphabet", f"unknown alphabet {alphabet!r}; allowed: {', '.join(ALPHABETS)}"
        )
    ipa = None
    if phoneme is not None:
        try:
            ipa = to_ipa(phoneme.strip()) if alphabet == "x-sampa" else phoneme.strip()
        except XSampaError as exc:
            raise LexiconError(f"{where}.phoneme", str(exc)) from None
    alias = " ".join(alias.split()) if alias is not None else None
    written = phoneme.strip() if phoneme is not None else None
    return Rule(grapheme, alias, ipa, written, alphabet)


def from_json(name: str, language: Any, rules: Any) -> Lexicon:
    check_name(name)
    if not isinstance(language, str) or not language.strip():
        raise LexiconError("language", "a language tag is required, e.g. en-US")
    if not isinstance(rules, list) or not rules:
        raise LexiconError("rules", "a non-empty list of rules is required")
    out = []
    for k, rule in enumerate(rules):
        if not isinstance(rule, dict):
            raise LexiconError(f"rules[{k}]", "must be an object")
        unknown = set(rule) - {"grapheme", "alias", "phoneme", "alphabet"}
        if unknown:
            raise LexiconError(
                f"rules[{k}]",
                f"unknown field {sorted(unknown)[0]!r}; allowed: grapheme, alias, phoneme, "
                "alphabet",
            )
        out.append(
            make_rule(
                f"rules[{k}]",
                rule.get("grapheme"),
                rule.get("alias"),
                rule.get("phoneme"),
                rule.get("alphabet"),
            )
        )
    return Lexicon(name, language.strip(), out)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def from_pls(name: str, document: str | bytes) -> Lexicon:
    """A PLS 1.0 document as a Lexicon; LexiconError("document", ...) if it is not one."""
    check_name(name)
    if (document.count("<") if isinstance(document, str) else document.count(b"<")) > (
        MAX_ELEMENTS * 2
    ):
        raise LexiconError("document", f"more than {MAX_ELEMENTS} elements")
    try:
        root = fromstring(document, forbid_dtd=True)
    except ET.ParseError as exc:
        line, column = exc.position
        raise LexiconError(
            "document", f"not well-formed XML at line {line}, column {column + 1}"
        ) from None
    except DefusedXmlException as exc:
        raise LexiconError(
            "document",
            "DTDs, entity declarations and external references are not allowed "
            f"({type(exc).__name__})",
        ) from None
    if _local(root.tag) != "lexicon":
        raise LexiconError("document", f"the root element must be <lexicon>, not <{root.tag}>")
    alphabet = root.get("alphabet", "ipa")
    language = root.get(XML_LANG) or root.get("lang") or "en-US"
    rules = []
    for k, lexeme in enumerate(e for e in root if _local(e.tag) == "lexeme"):
        parts: dict[str, list[ET.Element]] = {}
        for child in lexeme:
            parts.setdefault(_local(child.tag), []).append(child)
        alias = parts["alias"][0].text if "alias" in parts else None
        phoneme_element = parts["phoneme"][0] if "phoneme" in parts else None
        phoneme = phoneme_element.text if phoneme_element is not None else None
        own = phoneme_element.get("alphabet") if phoneme_element is not None else None
        graphemes = parts.get("grapheme") or [ET.Element("grapheme")]
        for grapheme in graphemes:
            rules.append(make_rule(f"lexeme[{k}]", grapheme.text, alias, phoneme, own or alphabet))
    if not rules:
        raise LexiconError("document", "a lexicon needs at least one <lexeme>")
    return Lexicon(name, language, rules)


def to_pls(lexicon: Lexicon) -> str:
    """The lexicon as a PLS 1.0 document (each phoneme with its own alphabet)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<lexicon version="1.0" xmlns="{PLS_NS}" alphabet="ipa" '
        f"xml:lang={quoteattr(lexicon.language)}>",
    ]
    for rule in lexicon.rules:
        lines.append(f"  <lexeme><grapheme>{escape(rule.grapheme)}</grapheme>")
        if rule.phoneme is not None:
            written = escape(rule.written or rule.phoneme)
            lines.append(f"    <phoneme alphabet={quoteattr(rule.alphabet)}>{written}</phoneme>")
        if rule.alias is not None:
            lines.append(f"    <alias>{escape(rule.alias)}</alias>")
        lines.append("  </lexeme>")
    lines.append("</lexicon>")
    return "\n".join(lines) + "\n"


def rules_from_json(rules: list[dict]) -> list[Rule]:
    """Rules as store.py keeps them (Rule.as_json), read back without checks."""
    return [
        make_rule("rules", r["grapheme"], r.get("alias"), r.get("phoneme"), r.get("alphabet"))
        for r in rules
    ]
