"""OpenAI's response formats: the job format each block is made in, and what goes on the wire.

MP3 blocks are encoded on the workers and streamed as they are (frames, the fast path); every
other format is made from the blocks' raw PCM by one encoder in the API as the blocks arrive, so
the response is one valid file (one WAV header, one Ogg stream) however many pieces it has.
"""

from __future__ import annotations

from dataclasses import dataclass

from workers.providers.openai_names import PCM_RATE


@dataclass(frozen=True)
class SpeechFormat:
    job_format: str  # utils/audio/formats.py name the blocks are made in
    content_type: str


SPEECH_FORMATS = {
    # OpenAI's MP3 is 24 kHz; 128 kbps is the highest MPEG-2 rate we make.
    "mp3": SpeechFormat(f"mp3_{PCM_RATE}_128", "audio/mpeg"),
    "opus": SpeechFormat(f"pcm_{PCM_RATE}", "audio/ogg"),
    "aac": SpeechFormat(f"pcm_{PCM_RATE}", "audio/aac"),  # ADTS: AAC that streams
    "flac": SpeechFormat(f"pcm_{PCM_RATE}", "audio/flac"),
    "wav": SpeechFormat(f"pcm_{PCM_RATE}", "audio/wav"),
    # raw 24 kHz 16-bit signed little-endian mono, as OpenAI documents it
    "pcm": SpeechFormat(f"pcm_{PCM_RATE}", "audio/pcm"),
}
