"""Where streamed text is cut into pieces to speak: at sentence ends, at the chunk-length
schedule's sizes, or at a flush.

A sentence end is found the way the speech endpoint cuts its input (utils/text/sentences.py,
pysbd): a run of text ending in . ! ? (quotes and brackets after it allowed) and a space is
complete when the segmenter, shown the text with a word after it, puts that word in a sentence
of its own; "Dr. " and "e.g. " are not ends. Without a sentence end, once the buffer holds the
schedule's next size (ElevenLabs' `chunk_length_schedule`, in characters) it is cut after its
last complete word, so an unpunctuated stream still speaks. A flush (or the end) takes everything.
"""

from __future__ import annotations

import re

from utils.text.sentences import sentences, speakable

_END = re.compile(r"[.!?…。！？]+[\"'”’)\]]*\s")
_PROBE = "Then"  # a capitalised word: after a real sentence end it starts a sentence of its own
_LOOK_BACK = 3  # candidate ends tried, from the last


def _complete_up_to(text: str) -> int:
    """Where the complete sentences of `text` end (0: none is complete)."""
    ends = [m.end() for m in _END.finditer(text)]
    for end in reversed(ends[-_LOOK_BACK:]):
        head = text[:end].rstrip()
        if sentences(f"{head} {_PROBE}")[-1:] == [_PROBE]:
            return end
    return 0


class TextBuffer:
    """Text not yet spoken, and the pieces it is ready to give."""

    def __init__(self, schedule: tuple[int, ...]):
        self.text = ""
        self.schedule = schedule
        self.cut = 0  # pieces given so far: the schedule's place

    def __len__(self) -> int:
        return len(self.text)

    def add(self, text: str, trigger: bool = False) -> list[str]:
        """Append `text`; the pieces now ready (complete sentences first)."""
        self.text += text
        ready = []
        if end := _complete_up_to(self.text):
            ready.append(self.text[:end])
            self.text = self.text[end:]
        threshold = self.schedule[min(self.cut, len(self.schedule) - 1)]
        if trigger:  # try_trigger_generation: the smallest size of the schedule will do
            threshold = min(self.schedule)
        if len(self.text.strip()) >= threshold:
            # a word is complete once a space follows it: one still arriving stays
            space = len(self.text) - 1 if self.text[-1].isspace() else self.text.rfind(" ")
            if space > 0:
                ready.append(self.text[: space + 1])
                self.text = self.text[space + 1 :]
        return self._pieces(ready)

    def flush(self) -> list[str]:
        """Everything buffered, as the last piece."""
        ready, self.text = [self.text], ""
        return self._pieces(ready)

    def _pieces(self, ready: list[str]) -> list[str]:
        out = []
        for piece in ready:
            piece = piece.strip()
            if not piece:
                continue
            if not speakable(piece) and out:
                out[-1] = f"{out[-1]} {piece}"
            elif speakable(piece):
                out.append(piece)
        self.cut += len(out)
        return out
