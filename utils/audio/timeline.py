"""Where each block lands in the final file, and how much silence follows it.

Outside MP3 (plan_pcm_timeline) the blocks' PCM and exact silences are encoded once, so
placement is plain arithmetic. The rest of this note is about MP3.

Why this is exact. Every block is encoded alone by LAME, so its decoded stream is
`ENCODER_DELAY` samples of lead-in, the speech, then padding up to a whole frame. Concatenating
such streams plays each one's padding and the next one's lead-in at the boundary; we absorb both
into the requested pause by inserting whole frames of digital silence, chosen so the silence
heard between two blocks is within half a frame (12 ms at 24 kHz) of the pause asked for. Where
the pause asked for is shorter than padding + lead-in, at most that (70 ms at 24 kHz) is added.
"""

from __future__ import annotations

from dataclasses import dataclass

from utils.audio.formats import OutputFormat

# LAME's encoder delay (576) plus the MP3 decoder's own delay (529): where the first input
# sample appears in the decoded output. tests/utils/test_mp3.py measures it.
DECODER_DELAY = 529
ENCODER_DELAY = 576 + DECODER_DELAY


@dataclass(frozen=True)
class PlacedBlock:
    """Where one block's speech lands in the stitched file, and the silence after it."""

    start_sample: int
    end_sample: int
    silence_frames_after: int


@dataclass(frozen=True)
class Timeline:
    blocks: list[PlacedBlock]
    total_samples: int
    sample_rate: int

    def ms(self, samples: int) -> int:
        return round(samples * 1000 / self.sample_rate)


def silence_frames_after(
    speech_samples: int,
    n_frames: int,
    pause_ms: int,
    fmt: OutputFormat,
    delay: int = ENCODER_DELAY,
) -> int:
    """Whole frames of silence to follow a block so the pause heard is `pause_ms`.

    Depends on this block alone, so a stream can send a block's silence as soon as the block
    is ready, and the stream is byte for byte the file the combine writes.
    """
    spf = fmt.samples_per_frame
    padding = n_frames * spf - delay - speech_samples
    # The next block's lead-in (delay) is heard as part of this pause too.
    wanted = pause_ms * fmt.sample_rate / 1000 - padding - delay
    return max(0, round(wanted / spf))


def plan_timeline(
    blocks: list[tuple[int, int, int]], fmt: OutputFormat, delay: int = ENCODER_DELAY
) -> Timeline:
    """Place blocks given (speech samples, encoded frames, pause after in ms) for each."""
    spf, rate = fmt.samples_per_frame, fmt.sample_rate
    placed, cursor = [], 0
    for speech_samples, n_frames, pause_ms in blocks:
        start = cursor + delay
        silence_frames = silence_frames_after(speech_samples, n_frames, pause_ms, fmt, delay)
        placed.append(PlacedBlock(start, start + speech_samples, silence_frames))
        cursor += (n_frames + silence_frames) * spf
    return Timeline(placed, cursor, rate)


def pause_samples(pause_ms: int, sample_rate: int) -> int:
    """The silence after a block outside MP3: exact to the sample, since the whole timeline is
    encoded at once and no block carries encoder delay or padding of its own."""
    return round(pause_ms * sample_rate / 1000)


def plan_pcm_timeline(blocks: list[tuple[int, int]], sample_rate: int) -> Timeline:
    """Place blocks given (speech samples, pause after in ms) for each, back to back with their
    exact pauses (silence_frames_after is 0: there are no frames to count)."""
    placed, cursor = [], 0
    for speech_samples, pause_ms in blocks:
        placed.append(PlacedBlock(cursor, cursor + speech_samples, 0))
        cursor += speech_samples + pause_samples(pause_ms, sample_rate)
    return Timeline(placed, cursor, sample_rate)
