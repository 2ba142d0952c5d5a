"""A rule as one provider says it.

Engines that take phonemes (Piper, Kokoro: TTSProvider.takes_phonemes) are given a rule's
phonemes inline as `[[ ... ]]`, each IPA symbol mapped to one the voice has (NEAR: the usual
equivalents, e.g. ASCII g for ɡ, ɹ for r); a symbol with no equivalent is refused, named.
Syllable marks and tie bars say nothing to these engines and are dropped. A rule without
phonemes is said by its alias. Providers that take text only are given the alias; a rule with
phonemes and no alias is refused for them, naming the provider.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection

from utils.lexicons.pls import Rule

DROPPED = set(".‿\u0361\u035c|‖")
# symbol -> what may stand for it, best first
NEAR: dict[str, tuple[str, ...]] = {
    "ɡ": ("g",), "g": ("ɡ",), "r": ("ɹ", "ɾ"), "ɹ": ("r",), "ʧ": ("tʃ",), "ʤ": ("dʒ",),
    "ɚ": ("əɹ", "ə"), "ɝ": ("ɜːɹ", "ɜː"), "ɫ": ("l",), "ɐ": ("ə",), "ɾ": ("t", "d"),
    "ˑ": ("ː",), ":": ("ː",), "'": ("ˈ",), "ᵻ": ("ɪ",), "ᵿ": ("ʊ",), "ɘ": ("ə",),
    "e": ("eɪ",), "o": ("oʊ", "əʊ"), "ɒ": ("ɔ",), "ɑ": ("ɒ", "a"), "ɛ": ("e",), "ʌ": ("ə",),
    "x": ("k",), "ʔ": ("",), "\u0303": ("",), "\u0329": ("",), "ʰ": ("",), "ʲ": ("",),
}  # fmt: skip
PAIRS = {"tʃ": "ʧ", "dʒ": "ʤ", "ts": "ʦ", "dz": "ʣ"}


class CannotSay(ValueError):
    """A rule a provider or voice cannot say; the message names why."""


def to_voice(ipa: str, symbols: Collection[str] | None) -> str:
    """IPA in the symbols `symbols` holds (None: unknown, kept as written)."""
    ipa = unicodedata.normalize("NFC", ipa)
    ipa = "".join(ch for ch in ipa if ch not in DROPPED)
    ipa = " ".join(ipa.split())
    if symbols is None:
        return ipa
    out, i = [], 0
    while i < len(ipa):
        ch = ipa[i]
        if ch == " " or ch in symbols:
            out.append(ch)
            i += 1
            continue
        pair = PAIRS.get(ipa[i : i + 2])
        if pair in symbols:
            out.append(pair)
            i += 2
            continue
        near = next((n for n in NEAR.get(ch, ()) if all(c in symbols for c in n)), None)
        if near is None:
            raise CannotSay(f"the voice has no phoneme {ch!r} (U+{ord(ch):04X})")
        out.append(near)
        i += 1
    return "".join(out)


def say(rule: Rule, provider: str, takes_phonemes: bool, symbols: Collection[str] | None) -> str:
    """What `provider` is given for `rule`'s words; CannotSay if it cannot say it."""
    if takes_phonemes and rule.phoneme is not None:
        try:
            phonemes = to_voice(rule.phoneme, symbols)
        except CannotSay as exc:
            raise CannotSay(f"{rule.grapheme!r} [{rule.phoneme}]: {exc}") from None
        if not phonemes.strip():
            raise CannotSay(f"{rule.grapheme!r}: its phonemes are empty")
        return f"[[ {phonemes} ]]"
    if rule.alias is not None:
        return rule.alias
    raise CannotSay(
        f"provider {provider!r} takes text only, and {rule.grapheme!r} has phonemes but no "
        "alias: give the rule an alias, or use a provider that takes phonemes (piper, kokoro)"
    )
