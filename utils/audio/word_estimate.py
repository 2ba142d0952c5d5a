"""Words placed in a block's audio where the provider gave no times of its own.

OpenAI-type servers return audio alone. The block's sentences are found in the audio first
(utils/audio/sentence_estimate.py); within each, its words are laid over the stretch where
there is sound (the silence at the sentence's edges left out) by their share of its characters.
Such words are marked `estimated` with the rest of the block's marks: good enough to follow
along or cut subtitles, not for lip sync.
"""

from __future__ import annotations

import numpy as np

from utils.audio.marks import Span, word_ranges

FRAME_MS = 10
QUIET = 0.05  # a frame under this share of the block's loudest frame's level is silence


def _loud_frames(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    frame = max(1, sample_rate * FRAME_MS // 1000)
    n = samples.size // frame
    if n == 0:
        return np.zeros(0, dtype=bool), frame
    frames = samples[: n * frame].astype(np.float32).reshape(n, frame)
    levels = np.sqrt((frames**2).mean(axis=1))
    peak = float(levels.max()) or 1.0
    return levels > QUIET * peak, frame


def estimate_words(
    samples: np.ndarray, sample_rate: int, text: str, sentences: tuple[Span, ...]
) -> tuple[Span, ...]:
    """Each word of each sentence, by characters over the sentence's sound."""
    loud, frame = _loud_frames(samples, sample_rate)
    words = []
    for sentence in sentences:
        ranges = word_ranges(text, sentence.char_start, sentence.char_end)
        if not ranges:
            continue
        first_frame, last_frame = sentence.start // frame, max(sentence.end // frame, 1)
        voiced = np.flatnonzero(loud[first_frame:last_frame])
        if voiced.size:
            start = max((first_frame + int(voiced[0])) * frame, sentence.start)
            end = min((first_frame + int(voiced[-1]) + 1) * frame, sentence.end)
        else:
            start, end = sentence.start, sentence.end
        first_char, last_char = ranges[0][0], ranges[-1][1]
        per_char = (end - start) / max(1, last_char - first_char)
        for a, b in ranges:
            words.append(
                Span(a, b, start + round((a - first_char) * per_char),
                     start + round((b - first_char) * per_char))
            )  # fmt: skip
    return tuple(words)
