"""Phonemes from espeak-ng, the grapheme-to-phoneme step of Kokoro's non-English voices (and
its English fallback), loaded from the espeakng-loader wheel through ctypes: no system package,
no phonemizer dependency.

espeak-ng drops punctuation, yet Kokoro's vocabulary has it (; : , . ! ? — … " ( ) “ ”) and it
shapes the prosody (a pause at a comma, a rise at a question mark). So the text is cut here at
its punctuation, each stretch between punctuation is phonemized, and the punctuation is put back
where it stood. espeak-ng keeps its state (the voice, the text being read) in the process, so
every call holds one lock; a call costs about 0.2 ms per sentence, so the lock is never long.
"""

from __future__ import annotations

import ctypes
import re
import threading
from dataclasses import dataclass

# Kokoro's punctuation tokens; others are written as the nearest of these (see _NORMALIZE).
PUNCTUATION = ';:,.!?—…"()“”'
# A run of punctuation at the end or the start of a word (not inside one: 3.14, e.g, U.S.A stay
# words), or a word that is nothing but punctuation.
# Chinese and Japanese full-width punctuation ends a stretch wherever it stands (no spaces there).
_PUNCT = r"[;:,.!?—…\"()“”«»–¡¿，。！？；：、]"
_RUN = re.compile(rf"{_PUNCT}+(?=\s|$)|(?:(?<=\s)|^){_PUNCT}+|[，。！？；：、]{_PUNCT}*")
_NORMALIZE = [("...", "…"), ("«", "“"), ("»", "”"), ("–", "—"), ("¡", ""), ("¿", ""),
              ("，", ","), ("、", ","), ("。", "."), ("！", "!"), ("？", "?"), ("；", ";"),
              ("：", ":")]  # fmt: skip

_TIE = "^"
# espeakCHARS_UTF8, and phoneme mode: IPA (bit 1), `_TIE` inside multi-letter phonemes (bit 7
# with the character in bits 8-23), so a diphthong or an affricate is one unit below.
_UTF8 = 1
_MODE = 0x02 | 0x80 | (ord(_TIE) << 8)
_AUDIO_OUTPUT_SYNCHRONOUS = 0x02
# espeak-ng writes its multi-letter phonemes as the single letters Kokoro's vocabulary has
# (the same table as the misaki library Kokoro was trained with uses).
_LIGATURES = [
    ("a^ɪ", "I"), ("a^ʊ", "W"), ("d^z", "ʣ"), ("d^ʒ", "ʤ"), ("e^ɪ", "A"), ("o^ʊ", "O"),
    ("ə^ʊ", "Q"), ("s^s", "S"), ("t^s", "ʦ"), ("t^ʃ", "ʧ"), ("ɔ^ɪ", "Y"),
]  # fmt: skip
# For English, misaki's mapping of espeak-ng's symbols to its own phoneme set, which Kokoro's
# English voices learned.
_ENGLISH = [("ʔn", "tn"), ("ʔ", "t"), ("r", "ɹ"), ("x", "k"), ("ç", "k"), ("ɐ", "ə"),
            ("ə^l", "ᵊl"), ("ɚ", "əɹ"), ("ɬ", "l"), ("ʲ", "j"), ("\u0303", "")]  # fmt: skip
_AMERICAN = [("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɪə", "iə"), ("ː", "")]
_FLAGS = re.compile(r"\([^)]*\)")  # language switches: (en) ... (ja)

_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_language: str | None = None


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


def _library() -> ctypes.CDLL:
    """espeak-ng, initialised once per process (call with the lock held)."""
    global _lib
    if _lib is None:
        import espeakng_loader

        lib = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path().encode()
        if lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0) <= 0:
            raise RuntimeError("espeak-ng could not be initialised")
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        pointer, c_int = ctypes.POINTER(ctypes.c_void_p), ctypes.c_int
        lib.espeak_TextToPhonemes.argtypes = [pointer, c_int, c_int]
        lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_Voice)]
        _lib = lib
    return _lib


def _select(lib: ctypes.CDLL, language: str) -> None:
    """The voice for `language` (an espeak-ng language such as en-us, fr-fr, cmn); looked up by
    language rather than by voice file name, since fr-fr lives in the file named fr."""
    global _language
    if language == _language:
        return
    voice = _Voice(languages=language.encode())
    if lib.espeak_SetVoiceByProperties(ctypes.byref(voice)) != 0:
        raise ValueError(f"espeak-ng has no voice for language {language!r}")
    _language = language


def _raw(text: str, language: str) -> str:
    """espeak-ng's phonemes of `text`, clause after clause, joined by a space."""
    with _lock:
        lib = _library()
        _select(lib, language)
        buffer = ctypes.create_string_buffer(text.encode("utf-8"))
        pointer = ctypes.c_void_p(ctypes.addressof(buffer))
        clauses = []
        while pointer.value:
            out = lib.espeak_TextToPhonemes(ctypes.byref(pointer), _UTF8, _MODE)
            if out:
                clauses.append(out.decode("utf-8"))
    return " ".join(clauses)


def _kokoro_symbols(phonemes: str, language: str) -> str:
    phonemes = _FLAGS.sub("", phonemes)
    # espeak-ng's own output has no punctuation: a "." there is a syllable mark (Mandarin), and
    # must not reach the model as a full stop.
    phonemes = "".join(c for c in phonemes if c not in PUNCTUATION and c != "-")
    if language.startswith("en"):
        for old, new in _ENGLISH:
            phonemes = phonemes.replace(old, new)
        if language != "en-gb":
            phonemes = phonemes.replace("o^ʊ", "O")
            for old, new in _AMERICAN:
                phonemes = phonemes.replace(old, new)
    for old, new in _LIGATURES:
        phonemes = phonemes.replace(old, new)
    return phonemes.replace(_TIE, "")


def phoneme_words(text: str, language: str) -> list[str]:
    """The phonemes of `text` (punctuation aside), as espeak-ng groups them into words: usually
    one per word of the text, but a number may take several ("42": fˈɔːɹɾi tˈuː) and a few
    short words are joined ("in the": ɪnðə)."""
    return _kokoro_symbols(_raw(text, language), language).split()


@dataclass(frozen=True)
class Stretch:
    """Characters [start, end) of a text: words to speak, or (`punctuation` set) a run of
    punctuation, written as Kokoro's tokens."""

    start: int
    end: int
    punctuation: str | None = None


def stretches(text: str) -> list[Stretch]:
    """`text` cut at its punctuation: spoken stretches between runs of punctuation."""
    out, cursor = [], 0
    for match in _RUN.finditer(text):
        if text[cursor : match.start()].strip():
            out.append(Stretch(cursor, match.start()))
        written = match.group()
        for old, new in _NORMALIZE:
            written = written.replace(old, new)
        if written:
            out.append(Stretch(match.start(), match.end(), written))
        cursor = match.end()
    if text[cursor:].strip():
        out.append(Stretch(cursor, len(text)))
    return out


def phonemize(text: str, language: str) -> str:
    """`text` as phonemes with stress marks, its punctuation kept where it stood: joined to the
    word before or after it as in the text, spaced where it stood alone."""
    out, glued = "", True
    for stretch in stretches(text):
        if stretch.punctuation is None:
            part = " ".join(phoneme_words(text[stretch.start : stretch.end], language))
            if part:
                out += part if glued else " " + part
                glued = False
            continue
        before = stretch.start > 0 and not text[stretch.start - 1].isspace()
        after = stretch.end < len(text) and not text[stretch.end].isspace()
        out += stretch.punctuation if before or glued else " " + stretch.punctuation
        glued = after
    return out
