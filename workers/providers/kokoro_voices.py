"""Kokoro's voices: what a voice's name says of it, blends of several voices, and the style
vectors a voice is on disk.

A Kokoro voice is no model of its own: it is a table of 510 style vectors of 256 floats (row
i for an input of i+1 phoneme tokens) that the one model speaks with. So voices mix: a blend is
the weighted average of its voices' tables, written as Kokoro-FastAPI writes it,
"af_bella(2)+af_sky(1)". Names follow one pattern, <language><gender>_<name>: af_bella is an
American English female voice.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

STYLE_ROWS = 510  # the model's limit: 512 tokens with the two pads
STYLE_WIDTH = 256

# First letter of a voice name: (language code, espeak-ng language).
LANGUAGES = {
    "a": ("en_US", "en-us"),
    "b": ("en_GB", "en-gb"),
    "e": ("es_ES", "es"),
    "f": ("fr_FR", "fr-fr"),
    "h": ("hi_IN", "hi"),
    "i": ("it_IT", "it"),
    "j": ("ja_JP", "ja"),
    "p": ("pt_BR", "pt-br"),
    "z": ("zh_CN", "cmn"),
}
GENDERS = {"f": "female", "m": "male"}

_PART = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*(?:\(\s*([0-9]*\.?[0-9]+)\s*\))?\s*$")
BLEND_SYNTAX = "voice names joined by '+', each with an optional weight: af_bella(2)+af_sky(1)"


class VoiceInfo(NamedTuple):
    language: str  # en_US, ja_JP, ...
    espeak: str  # the espeak-ng language its text is phonemized in
    gender: str | None  # female, male; None where the name does not say


def voice_info(name: str) -> VoiceInfo:
    """What a voice's name says of it; ValueError for a name outside Kokoro's pattern."""
    if len(name) < 3 or name[2] != "_" or name[0] not in LANGUAGES:
        known = ", ".join(f"{k} ({v[0]})" for k, v in LANGUAGES.items())
        raise ValueError(
            f"voice {name!r} is not named <language><gender>_<name>; first letters: {known}"
        )
    language, espeak = LANGUAGES[name[0]]
    return VoiceInfo(language, espeak, GENDERS.get(name[1]))


def parse_blend(text: str) -> list[tuple[str, float]]:
    """A voice or a blend as [(voice, weight)], weights summing to 1, in the order written.

    "af_bella" is [("af_bella", 1.0)]; "af_bella(2)+af_sky(1)" is two thirds and one third;
    "a+b" weighs both alike. A voice named twice has its weights added.
    """
    if not text or not text.strip():
        raise ValueError(f"no voice given; expected {BLEND_SYNTAX}")
    weights: dict[str, float] = {}
    for part in text.split("+"):
        match = _PART.match(part)
        if match is None:
            raise ValueError(f"{part.strip()!r} in voice {text!r} is not a voice; {BLEND_SYNTAX}")
        name, weight = match.group(1), float(match.group(2) or 1)
        weights[name] = weights.get(name, 0.0) + weight
    total = sum(weights.values())
    if total <= 0:
        raise ValueError(f"the weights of voice {text!r} add up to 0; {BLEND_SYNTAX}")
    return [(name, weight / total) for name, weight in weights.items()]


def blend_text(blend: list[tuple[str, float]]) -> str:
    """A blend written one way only (order kept, weights normalized and rounded), for cache
    keys: "af_bella(2)+af_sky(1)" and "af_bella(4)+af_sky(2)" write the same."""
    if len(blend) == 1:
        return blend[0][0]
    return "+".join(f"{name}({weight:.4g})" for name, weight in blend)


def blend_info(blend: list[tuple[str, float]]) -> VoiceInfo:
    """A blend speaks the language of its first voice."""
    return voice_info(blend[0][0])


def load_style(path: Path) -> np.ndarray:
    """A voice's style vectors, (510, 256) float32, from its raw little-endian file."""
    data = Path(path).read_bytes()
    expected = STYLE_ROWS * STYLE_WIDTH * 4
    if len(data) != expected:
        raise ValueError(
            f"{path} holds {len(data)} bytes, not a Kokoro voice "
            f"({STYLE_ROWS} x {STYLE_WIDTH} float32: {expected} bytes)"
        )
    return np.frombuffer(data, dtype="<f4").reshape(STYLE_ROWS, STYLE_WIDTH).astype(np.float32)


def mix(styles: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """The weighted average of voices' style tables, as Kokoro-FastAPI blends them."""
    if not styles or len(styles) != len(weights):
        raise ValueError("mix needs one weight per voice")
    w = np.asarray(weights, dtype=np.float64)
    stacked = np.stack([np.asarray(s, dtype=np.float64) for s in styles])
    return (np.tensordot(w / w.sum(), stacked, axes=1)).astype(np.float32)
