"""X-SAMPA, the ASCII transcription of the IPA, converted to IPA.

Symbols are read longest first (`r\\` before `r`, `@\\`` before `@`); a symbol X-SAMPA does
not define is refused, named, rather than guessed at.
"""

from __future__ import annotations

# Letters that are the same in both are not listed: they map to themselves.
_SAME = set("abcdefhijklmnopqstuvwxyz") - {"g"}
TABLE: dict[str, str] = {
    "g": "ɡ", "A": "ɑ", "B": "β", "C": "ç", "D": "ð", "E": "ɛ", "F": "ɱ", "G": "ɣ", "H": "ɥ",
    "I": "ɪ", "J": "ɲ", "K": "ɬ", "L": "ʎ", "M": "ɯ", "N": "ŋ", "O": "ɔ", "P": "ʋ", "Q": "ɒ",
    "R": "ʁ", "S": "ʃ", "T": "θ", "U": "ʊ", "V": "ʌ", "W": "ʍ", "X": "χ", "Y": "ʏ", "Z": "ʒ",
    '"': "ˈ", "%": "ˌ", ":": "ː", ":\\": "ˑ", "@": "ə", "{": "æ", "}": "ʉ", "1": "ɨ",
    "2": "ø", "3": "ɜ", "4": "ɾ", "5": "ɫ", "6": "ɐ", "7": "ɤ", "8": "ɵ", "9": "œ", "&": "ɶ",
    "?": "ʔ", "?\\": "ʕ", "'": "ʲ", "~": "\u0303", "=": "\u0329", "`": "˞", ".": ".",
    "r\\": "ɹ", "R\\": "ʀ", "h\\": "ɦ", "j\\": "ʝ", "l\\": "ɺ", "z\\": "ʑ", "s\\": "ɕ",
    "x\\": "ɧ", "3\\": "ɞ", "@\\": "ɘ", "I\\": "ᵻ", "U\\": "ᵿ", "M\\": "ɰ", "B\\": "ʙ",
    "G\\": "ɢ", "H\\": "ʜ", "J\\": "ɟ", "K\\": "ɮ", "L\\": "ʟ", "N\\": "ɴ", "O\\": "ʘ",
    "r\\`": "ɻ", "r`": "ɽ", "t`": "ʈ", "d`": "ɖ", "n`": "ɳ", "s`": "ʂ", "z`": "ʐ", "l`": "ɭ",
    "@`": "ɚ", "3`": "ɝ", "_h": "ʰ", "_w": "ʷ", "_j": "ʲ", "_G": "ˠ", "_~": "\u0303",
    "_0": "\u0325", "_=": "\u0329", "_^": "\u032f", "-": "", " ": " ",
}  # fmt: skip
TABLE.update({letter: letter for letter in _SAME})
_LONGEST = max(map(len, TABLE))


class XSampaError(ValueError):
    """A symbol X-SAMPA does not define."""

    def __init__(self, symbol: str, at: int):
        super().__init__(f"unknown X-SAMPA symbol {symbol!r} at position {at}")
        self.symbol, self.at = symbol, at


def to_ipa(xsampa: str) -> str:
    """`xsampa` in IPA; XSampaError naming the first symbol that is not X-SAMPA."""
    out, i = [], 0
    while i < len(xsampa):
        for size in range(min(_LONGEST, len(xsampa) - i), 0, -1):
            ipa = TABLE.get(xsampa[i : i + size])
            if ipa is not None:
                out.append(ipa)
                i += size
                break
        else:
            raise XSampaError(xsampa[i], i)
    return "".join(out)
