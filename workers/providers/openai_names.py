"""Names OpenAI's speech API defines: its models and voices, and the rate of its "pcm" format.

Apart from workers/providers/openai.py so that the API (which maps these names for its own
OpenAI-compatible endpoint) can read them without importing the SDK.
"""

from __future__ import annotations

OPENAI_MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")
OPENAI_VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
PCM_RATE = 24000  # raw 16-bit mono, what the speech endpoint's "pcm" format is
