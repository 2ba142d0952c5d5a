"""Response bodies of GET /result/{id}/timings (api/routers/timings.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TimedTextOut(BaseModel):
    block: int = Field(description="Index of the block the text belongs to")
    text: str
    start_ms: int = Field(description="Where it starts in the final audio")
    end_ms: int = Field(description="Where it ends in the final audio")
    source: Literal["synthesized", "aligned", "estimated"] = Field(
        description="synthesized: spoken as its own piece, exact; aligned: the provider's own "
        "alignment; estimated: found in the audio (pauses, else characters)"
    )
    chars: tuple[int, int] = Field(description="[start, end) of `text` in the block's text")


class MarkOut(BaseModel):
    name: str = Field(description="The `name` of the SSML <mark>")
    block: int = Field(description="Index of the block it is in")
    start_ms: int = Field(description="When it is reached in the final audio")
    source: Literal["word", "sentence", "block"] = Field(
        description="word: the start of the word after it (its end, after the last word); "
        "sentence: within its sentence by characters; block: the block's start or end"
    )
    chars: tuple[int, int] = Field(
        description="Where it is in the block's text: an empty range, before the next word"
    )


class TimingsOut(BaseModel):
    sentences: list[TimedTextOut]
    words: list[TimedTextOut] = Field(
        description="Every word: from the model (Piper, Kokoro), the provider's API "
        "(ElevenLabs, Volcano Engine), or estimated in the audio (see source)"
    )
    marks: list[MarkOut] = Field(default=[], description="The SSML <mark>s, in order")
