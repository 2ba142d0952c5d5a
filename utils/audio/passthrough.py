"""Provider audio stored as it came, where it is already in the job's format.

Re-encoding is a cloud block's largest CPU cost (LAME takes ~5 ms for 3 s at 24 kHz on this
machine's cores, `make bench`, cost), and a lossy step besides. Where the provider answered in
the job's own format and nothing asks for its samples (a loudness target or a volume change),
the block keeps the provider's bytes:

- MP3 at the job's rate and bitrate, mono: its frames, less ID3 tags and the Info/Xing frame,
  are what the combine stitches (utils/audio/mp3_frames.py bare_frames). Where they are not
  (another bitrate, stereo), None: the block is decoded and encoded as before.
- raw PCM at the job's rate, for every family that is not MP3: stored as the block's PCM.

The speech's length comes from the frames: exact where the encoder wrote its delay and padding
(a LAME tag); otherwise LAME's delay is assumed and its padding taken as the middle of what it
can be, so a pause after the block is within about a frame of what was asked (the decoded
path's is within half of one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from utils.audio.formats import OutputFormat
from utils.audio.mp3_frames import AudioFrames, bare_frames, encoder_gaps
from utils.audio.pcm import ProviderAudio, decode_mp3
from utils.audio.timeline import DECODER_DELAY, ENCODER_DELAY


@dataclass(frozen=True)
class Delivered:
    """What the provider sent, as the block stores it."""

    data: bytes  # MP3 frames for an MP3 job, else s16le PCM at the job's rate
    n_samples: int  # the speech's samples (what the timeline places)
    n_frames: int  # MP3 frames (0 outside MP3)
    lead_in: int  # samples a decoder outputs before the speech (MP3), 0 for PCM


def as_delivered(audio: ProviderAudio, fmt: OutputFormat) -> Delivered | None:
    """The provider's audio as the block can store it unchanged, or None where it cannot."""
    if fmt.is_mp3:
        return _mp3(audio, fmt) if audio.encoding == "mp3" else None
    if audio.encoding == "pcm_s16le" and audio.sample_rate == fmt.sample_rate:
        if len(audio.data) % 2:
            return None  # not whole samples: the decoded path says what is wrong
        return Delivered(audio.data, len(audio.data) // 2, 0, 0)
    return None


def _mp3(audio: ProviderAudio, fmt: OutputFormat) -> Delivered | None:
    try:
        frames: AudioFrames = bare_frames(audio.data, fmt)
    except ValueError:
        return None  # not frames of the job's format: decoded and encoded again
    gaps = encoder_gaps(audio.data)
    if gaps is not None:  # exact: decoded, the frames are the decoder's delay, the encoder's
        delay, padding = gaps  # delay, the speech, and the encoder's padding less that delay
        lead_in, n_samples = delay + DECODER_DELAY, frames.n_samples - delay - padding
    else:
        # LAME's delay; its padding, as decoded, lies between ~50 samples and a frame + 30
        # (measured over lengths at 24 and 44.1 kHz): the middle of that is taken
        lead_in = ENCODER_DELAY
        n_samples = frames.n_samples - ENCODER_DELAY - (fmt.samples_per_frame // 2 + 40)
    if lead_in != ENCODER_DELAY or n_samples <= 0:
        return None  # the timeline places every block's speech after LAME's delay

    return Delivered(frames.data, n_samples, frames.n_frames, lead_in)


def speech_samples(delivered: Delivered, fmt: OutputFormat) -> np.ndarray:
    """The block's speech as samples, for what needs them (timings found in the audio)."""
    if not fmt.is_mp3:
        return np.frombuffer(delivered.data, dtype="<i2")
    decoded = decode_mp3(delivered.data, fmt.sample_rate)
    return decoded[delivered.lead_in : delivered.lead_in + delivered.n_samples]
