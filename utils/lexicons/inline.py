"""SSML `<phoneme>` carried inside a segment's text until the rules are applied.

The SSML compiler (utils/text/ssml.py) writes `<phoneme ph="wɪn">Nguyen</phoneme>` into the
segment's text as OPEN + IPA + SEP + the words + CLOSE: characters of Unicode's private use
area, which no text a user sends is let through with (utils/lexicons/apply.py takes them out
of the text and treats each as a rule of its own, for those words only). They survive the
compiler's tidying and the cutting of text into sentences and pieces.
"""

from __future__ import annotations

import re

from utils.lexicons.pls import Rule

OPEN, SEP, CLOSE = "\ue000", "\ue001", "\ue002"
MARKERS = OPEN + SEP + CLOSE
_INLINE = re.compile(f"{OPEN}([^{MARKERS}]*){SEP}([^{MARKERS}]*){CLOSE}")


def inline_phoneme(ipa: str, words: str) -> str:
    """The words, and how they are said, as the compiler writes them into a segment's text."""
    clean = "".join(ch for ch in ipa if ch not in MARKERS)
    return f"{OPEN}{' '.join(clean.split())}{SEP}{words}{CLOSE}"


def has_markers(text: str) -> bool:
    return any(ch in text for ch in MARKERS)


def take_out(text: str) -> tuple[str, list[tuple[int, int, Rule]]]:
    """The text as written (markers taken out), and each inline phoneme as a match over it."""
    if OPEN not in text:
        return text.translate({ord(c): None for c in MARKERS}), []
    out, found, cursor = [], [], 0
    length = 0
    for match in _INLINE.finditer(text):
        before = text[cursor : match.start()]
        out.append(before)
        length += len(before)
        ipa, words = match.group(1), match.group(2)
        found.append((length, length + len(words), Rule(words, phoneme=ipa, written=ipa)))
        out.append(words)
        length += len(words)
        cursor = match.end()
    out.append(text[cursor:])
    clean = "".join(out)
    stray = clean.translate({ord(c): None for c in MARKERS})
    return stray, found if stray == clean else []
