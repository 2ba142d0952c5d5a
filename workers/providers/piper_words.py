"""Piper speaking a block with where each of its words lands in the audio, from the model itself.

A Piper model decides how many frames (of `hop_length` samples) it speaks each phoneme for
before it makes any sound (the `Ceil` of its duration predictor), and the audio is those frames
end to end. The exports piper ships do not give that tensor out, so each model is loaded from a
copy that does (piper's own patch: the Ceil made an output), derived once per machine into the
engine's derived_dir (workers/providers/derived_models.py). piper then hands each chunk of
audio its phoneme alignments: every phoneme with the samples it is spoken for.

Phonemes to words. Piper's phonemes are espeak-ng's, with the clause punctuation put back and
a space between words; the phonemes between spaces and punctuation are a phoneme word, and
phoneme words are given back to the text's words (runs of non-space, as the text is given) as
workers/providers/phoneme_words.py says: counted where each word phonemized alone adds up to
the sentence's phoneme words ("42" is two, "Dr." one), aligned otherwise ("in the" said as
one). A word's span is from the first sample of its first phoneme to the last of its last, or
of the punctuation that closes it (a word's last sound runs on into it); spaces belong to no
word, and the next word starts after them.

Measured with the bundled voice (en_US-joe-medium, 63 MB) on a 2-core CPU: deriving the copy
takes 0.3-0.4 s and, for that while, about 180 MB more memory, once per machine (a process's
first load then also opens the original once, to see it lacks the output: about 1 s in all);
later loads open the copy in what the original took (0.3-0.5 s) plus 0.14 s to fingerprint the
source; the session is 92 MB either way, and the extra output costs no measurable synthesis
time. Word starts fall within a few ms of where speech starts (bench/words_bench.py: median
about 5 ms, 95th percentile about 20 ms, after the pauses of a list read out).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from utils.audio.marks import Marks, Span, marks_of_pieces, word_ranges
from workers.providers.derived_models import cached_derived, derived_model
from workers.providers.phoneme_words import owners

log = logging.getLogger(__name__)

ALIGNMENTS = "alignments"  # what the derived copy's name says it adds
# What piper puts between phoneme words: spaces and its sentence start mark (no word's), the
# clause punctuation espeak-ng reports and its sentence end mark (closing the word before them).
_SPACES = {" ", "^"}
_BETWEEN = _SPACES | set(',.;:!?¡¿…—–"“”«»()$')


def with_alignments(source: Path) -> bytes:
    """The model at `source` with its samples per phoneme id as one more output."""
    import onnx
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(source))
    add_alignment_output(model)
    return model.SerializeToString()


def session_with_alignments(source: Path, derived_dir: Path | None, load: Callable):
    """A session (`load` makes one from a path or bytes) of the model at `source` that gives
    out its alignments: the model itself where it does, else its derived copy (made now if no
    process of the machine has made it; without a `derived_dir`, in memory). The model as it
    is where no copy can be derived: its words then go untimed, its sentences stay exact."""
    derived = derived_dir is not None and cached_derived(source, Path(derived_dir), ALIGNMENTS)
    session = load(str(derived or source))
    if len(session.get_outputs()) > 1:
        return session
    try:
        if derived_dir is None:
            return load(with_alignments(source))
        derived = derived_model(source, Path(derived_dir), ALIGNMENTS, with_alignments)
    except (ImportError, ValueError) as exc:
        log.warning("%s: no phoneme alignments (%s); sentences only", source.name, exc)
        return session
    return load(str(derived))


@dataclass(frozen=True)
class Piece:
    """A sentence spoken: its audio (int16 bytes), and its words' spans in samples of that
    audio; `words` None where the model gave no alignments."""

    audio: bytes
    words: list[Span] | None
    method: str | None = None


@dataclass(frozen=True)
class _Symbol:
    text: str
    start: int
    end: int


@dataclass
class _Group:
    """A phoneme word, and where the punctuation right after it (no space between) ends."""

    symbols: list[_Symbol]
    closed_at: int | None = None


def _groups(symbols: Iterable[tuple[str, int, int]]) -> list[_Group]:
    """Phoneme words: the runs of symbols between spaces and punctuation."""
    out: list[_Group] = []
    current: list[_Symbol] = []
    last: _Group | None = None  # the phoneme word punctuation now would close
    for text, start, end in symbols:
        if text not in _BETWEEN:
            current.append(_Symbol(text, start, end))
            continue
        if current:
            last = _Group(current)
            out.append(last)
            current = []
        if text in _SPACES:
            last = None
        elif last is not None:
            last.closed_at = end
    if current:
        out.append(_Group(current))
    return out


def _timeline(chunks) -> list[tuple[str, int, int]] | None:
    """Every phoneme of the chunks with its samples [start, end) in their joined audio; the
    chunks' own sentence marks between them. None where a chunk has no alignments."""
    out, offset = [], 0
    for chunk in chunks:
        alignments = chunk.phoneme_alignments
        length = len(chunk.audio_float_array)
        if alignments is None:
            return None
        total = sum(int(a.num_samples) for a in alignments)
        scale = length / total if total and total != length else 1.0  # an export that trims
        cursor = 0
        for alignment in alignments:
            start = offset + round(cursor * scale)
            cursor += int(alignment.num_samples)
            out.append((alignment.phoneme, start, offset + round(cursor * scale)))
        out.append(("$", offset + length, offset + length))
        offset += length
    return out


def marks_of(ranges: Sequence[tuple[int, int]], pieces: Sequence[Piece]) -> Marks:
    """The marks of sentences spoken one after another: each sentence exact (the samples of
    its own piece), and the words where every piece has them."""
    marks = marks_of_pieces(ranges, [len(piece.audio) // 2 for piece in pieces])
    if any(piece.words is None for piece in pieces):
        return marks
    words, offset = [], 0
    for piece in pieces:
        placed = [
            Span(w.char_start, w.char_end, w.start + offset, w.end + offset) for w in piece.words
        ]
        offset += len(piece.audio) // 2
        if placed:
            # The sound of a sentence's last word runs on past its last phoneme (up to 180 ms,
            # more after a question); it ends where its sentence's audio does, as far as a
            # listener can tell, so the last word is given the rest of its piece.
            placed[-1] = replace(placed[-1], end=max(placed[-1].end, offset))
        words += placed
    return replace(marks, words=tuple(words))


def speak_sentence(voice, text: str, start: int, end: int, config) -> Piece:
    """text[start:end] spoken by a PiperVoice, with the spans of its words (char offsets in
    `text`, samples in the piece's audio)."""
    chunks = list(voice.synthesize(text[start:end], config, include_alignments=True))
    audio = b"".join(chunk.audio_int16_bytes for chunk in chunks)
    timeline = _timeline(chunks)
    if timeline is None:
        return Piece(audio, None)
    spans, method = word_spans(text, start, end, timeline, _phonemizer(voice))
    return Piece(audio, spans, method)


def _phonemizer(voice) -> Callable[[str], list[list[str]]]:
    """A word's phoneme words, as the voice phonemizes it alone (each word once per call)."""
    seen: dict[str, list[list[str]]] = {}

    def alone(word: str) -> list[list[str]]:
        if word not in seen:
            phonemes = [(p, 0, 0) for sentence in voice.phonemize(word) for p in [*sentence, " "]]
            seen[word] = [[s.text for s in group.symbols] for group in _groups(phonemes)]
        return seen[word]

    return alone


def word_spans(
    text: str,
    start: int,
    end: int,
    timeline: list[tuple[str, int, int]],
    alone: Callable[[str], list[list[str]]],
) -> tuple[list[Span], str | None]:
    """The words of text[start:end] over `timeline` (its phonemes with their samples), and
    how their phoneme words were found (phoneme_words.py). A word ends where its last phoneme
    does, or where the punctuation right after it does, the sentence's end included (the sound
    of a word's end runs on into them: up to 180 ms at a sentence's end); a word said by no
    phoneme stands where the word before it ended, lasting no time."""
    ranges = word_ranges(text, start, end)
    groups = _groups(timeline)
    if not ranges:
        return [], None
    if not groups:
        return [Span(a, b, 0, 0) for a, b in ranges], None
    joined = " ".join("".join(symbol.text for symbol in group.symbols) for group in groups)
    said = [["".join(p) for p in alone(text[a:b])] for a, b in ranges]
    found, method = owners(said, joined)
    bounds: dict[int, tuple[int, int]] = {}
    at = 0  # where each symbol stands in `joined`
    for group in groups:
        word = None
        for symbol in group.symbols:
            word, at = found[at], at + len(symbol.text)
            if word is not None:
                low, high = bounds.get(word, (symbol.start, symbol.end))
                bounds[word] = (min(low, symbol.start), max(high, symbol.end))
        at += 1  # the space after the phoneme word
        if word is not None and group.closed_at is not None:  # the tail of its last sound
            bounds[word] = (bounds[word][0], max(bounds[word][1], group.closed_at))
    spans, previous = [], 0
    for w, (a, b) in enumerate(ranges):
        first, last = bounds.get(w, (previous, previous))
        previous = last
        spans.append(Span(a, b, first, last))
    return spans, method
