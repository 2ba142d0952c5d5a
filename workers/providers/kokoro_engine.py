"""Kokoro-82M speaking a text: phoneme tokens in runs the model takes, audio with where each
sentence and word of the text lands in it.

The times come from the model itself: it predicts how many 600-sample frames it speaks each
token for (workers/providers/kokoro_model.py), and the audio is those frames end to end, so a
word's span is the sum of its tokens' frames, exact to the sample. Long text is spoken in runs
of at most RUN_TOKENS tokens (text cut as workers/providers/kokoro_text.py says), each with the
style row for its own length, as Kokoro's own pipeline does; the runs' audio is joined as it
is, with no silence added or trimmed, so every span stays where the model put it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from utils.audio.marks import Marks, Source, Span
from workers.providers.kokoro_model import FRAME_SAMPLES, SAMPLE_RATE, KokoroSession
from workers.providers.kokoro_text import Tokens, runs, tokenize

# Well under the model's 510: its quality falls off near the limit, and shorter runs start
# sooner; a run is still about 30 s of speech.
RUN_TOKENS = 400
MIN_SPEED, MAX_SPEED = 0.5, 2.0
# The sound of a token comes about 3 frames before its frames' place (measured here at word
# onsets after silence: 2 to 3 frames early; Kokoro's own pipeline shifts its timestamps by 3
# frames too), from the decoder's context, so times are taken that much earlier.
LEAD_SAMPLES = 3 * FRAME_SAMPLES


@dataclass(frozen=True)
class KokoroSpeech:
    samples: np.ndarray  # int16, mono
    marks: Marks
    sample_rate: int = SAMPLE_RATE
    # how many words each method of workers/providers/kokoro_text.py mapped to their phonemes
    word_methods: dict[str, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


class KokoroModel(KokoroSession):
    """A loaded Kokoro model (see KokoroSession for its arguments) that speaks text."""

    def speak(
        self,
        text: str,
        style_vectors: np.ndarray,
        language: str,
        speed: float = 1.0,
        run_tokens: int = RUN_TOKENS,
    ) -> KokoroSpeech:
        """`text` spoken with a voice's (510, 256) style table; `language` as espeak-ng names
        it (en-us, fr-fr: workers/providers/kokoro_voices.py); `speed` 0.5 to 2.0."""
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ValueError(f"speed must be {MIN_SPEED} to {MAX_SPEED}, not {speed}")
        tokens = tokenize(text, language, self.vocab)
        begin = np.full(len(tokens.ids), -1, dtype=np.int64)
        finish = np.full(len(tokens.ids), -1, dtype=np.int64)
        pieces, offset = [], 0
        for a, b in runs(tokens, min(run_tokens, len(style_vectors)), self.vocab.get(" ")):
            audio, frames = self.run(tokens.ids[a:b], style_vectors, speed)
            edges = np.concatenate([[0], np.cumsum(frames)]) * FRAME_SAMPLES
            if edges[-1] and edges[-1] != len(audio):  # an export that pads or trims its audio
                edges = edges * (len(audio) / edges[-1])
            edges = offset + np.maximum(0, np.round(edges).astype(np.int64) - LEAD_SAMPLES)
            begin[a:b] = edges[1 : b - a + 1]  # edges[0] to edges[1]: the leading pad
            finish[a:b] = edges[2 : b - a + 2]
            pieces.append(audio)
            offset += len(audio)
        audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        samples = np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16)
        marks = Marks(
            Source.ALIGNED,
            _sentence_spans(tokens, begin, len(samples)),
            tuple(_word_spans(tokens, begin, finish)),
        )
        return KokoroSpeech(samples, marks, word_methods=dict(tokens.methods))


def _word_spans(tokens: Tokens, begin: np.ndarray, finish: np.ndarray):
    previous_end = 0
    for word in tokens.words:
        if word.end > word.start:
            start, end = int(begin[word.start]), int(finish[word.end - 1])
        else:  # said by no token: where it stands, lasting no time
            start = end = previous_end
        previous_end = end
        yield Span(word.char_start, word.char_end, start, end)


def _sentence_spans(tokens: Tokens, begin: np.ndarray, total: int) -> tuple[Span, ...]:
    """Sentences end to end over the whole audio, each from where its first token starts (the
    first from 0) to where the next one's does, the pause after it included."""
    starts = []
    for char_start, char_end, first in tokens.sentences:
        timed = [int(begin[i]) for i in range(first, len(tokens.ids)) if begin[i] >= 0][:1]
        if timed:
            starts.append((char_start, char_end, timed[0]))
    spans = []
    for k, (char_start, char_end, start) in enumerate(starts):
        end = starts[k + 1][2] if k + 1 < len(starts) else total
        if end > start or k + 1 == len(starts):
            spans.append(Span(char_start, char_end, 0 if k == 0 else start, end))
    return tuple(spans)
