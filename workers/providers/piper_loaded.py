"""Voices loaded in this process, least recently used unloaded past a limit.

A loaded Piper voice is an ONNX session of 60-100 MB that took about 1.5 s to build, so each
is built once per process; with the whole catalogue to choose from, a worker that has spoken
many voices would otherwise hold them all. Two threads asking for the same voice build it once
(a lock per voice), and a voice being built never holds up the use of voices already loaded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class LoadedVoices(Generic[V]):
    def __init__(self, capacity: int, load: Callable[[str], V]):
        self.capacity = capacity
        self._load = load
        self._voices: OrderedDict[str, V] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def get(self, key: str) -> V:
        with self._lock:
            if key in self._voices:
                self._voices.move_to_end(key)
                return self._voices[key]
            building = self._loading.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._voices:  # built by the thread this one waited for
                    self._voices.move_to_end(key)
                    return self._voices[key]
            voice = self._load(key)
            with self._lock:
                self._voices[key] = voice
                # dropped here; a block still speaking with it keeps it alive until it ends
                while len(self._voices) > self.capacity:
                    self._voices.popitem(last=False)
                self._loading.pop(key, None)
            return voice

    def keys(self) -> list[str]:
        """Loaded voices, least recently used first."""
        with self._lock:
            return list(self._voices)
