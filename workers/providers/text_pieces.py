"""Text cut into pieces an upstream accepts in one request, at the most natural places.

Some APIs refuse text past a size (Volcano Engine: 1024 bytes of UTF-8 per request) while a
block may be far longer. The pieces are cut after sentences where possible, then after commas
or spaces, and only as a last resort inside a word, so each piece still reads as speech.
"""

from __future__ import annotations

import re

# Zero-width split points: after a sentence's end (a "." only before a space, so 3.14 and
# e.g. stay whole), then after a clause's end or a space.
_BREAKS = [
    re.compile(r"(?<=[。！？；!?;\n])|(?<=\.)(?=\s)"),
    re.compile(r"(?<=[，、,：:\s])"),
]


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def split_text(text: str, max_bytes: int) -> list[str]:
    """Pieces of at most `max_bytes` (UTF-8) that together hold all of `text`'s words."""
    if max_bytes < 4:  # one UTF-8 character may take four
        raise ValueError("max_bytes must be at least 4")
    return [piece.strip() for piece in _split(text, max_bytes, 0) if piece.strip()]


def _split(text: str, max_bytes: int, level: int) -> list[str]:
    if _size(text) <= max_bytes:
        return [text]
    if level == len(_BREAKS):
        return _cut(text, max_bytes)
    pieces: list[str] = []
    current = ""
    for part in _BREAKS[level].split(text):
        if _size(current + part) <= max_bytes:
            current += part
            continue
        if current:
            pieces.append(current)
        current = ""
        if _size(part) <= max_bytes:
            current = part
        else:
            pieces.extend(_split(part, max_bytes, level + 1))
    if current:
        pieces.append(current)
    return pieces


def _cut(text: str, max_bytes: int) -> list[str]:
    """Whole characters up to the limit: never half of a multi-byte character."""
    pieces, current, size = [], [], 0
    for char in text:
        char_size = _size(char)
        if size + char_size > max_bytes:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += char_size
    if current:
        pieces.append("".join(current))
    return pieces
