"""Copies of ONNX models with one more output, made once per machine and kept on disk.

A local engine may need a tensor its model computes but does not give out (Kokoro's frames per
token, Piper's samples per phoneme): a copy of the model with that tensor as an output is
derived from it. Deriving means loading the whole graph with the onnx package (seconds, and
the model's size again in memory), so it is done once per machine: the copy is written into a
directory (atomically: a temporary file os.replace'd into place, so no loader ever opens half
of one), under an fcntl lock per copy (workers/providers/piper_fetch.py, voice_lock), so
however many processes want it at once, one derives it and the others wait and open it.

A copy is named by its source's content (a fingerprint of its bytes), so a changed model is
derived again, never mistaken for the old one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from workers.providers.piper_fetch import voice_lock

log = logging.getLogger(__name__)

Derive = Callable[[Path], bytes]  # a model's path -> the serialized derived model


def fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()[:16]


def derived_path(source: Path, derived_dir: Path, suffix: str) -> Path:
    """Where the copy of `source` with `suffix` (what it adds) is kept."""
    return Path(derived_dir) / f"{source.stem}-{fingerprint(source)}-{suffix}.onnx"


def cached_derived(source: Path, derived_dir: Path, suffix: str) -> Path | None:
    """The derived copy of `source`, if a process of this machine has made it."""
    target = derived_path(source, derived_dir, suffix)
    return target if target.is_file() else None


def derived_model(source: Path, derived_dir: Path, suffix: str, derive: Derive) -> Path:
    """The copy of `source` that `derive` makes, in `derived_dir`, made once per machine."""
    derived_dir = Path(derived_dir)
    derived_dir.mkdir(parents=True, exist_ok=True)
    target = derived_path(source, derived_dir, suffix)
    if target.is_file():
        return target
    with voice_lock(derived_dir, target.stem):
        if target.is_file():  # derived by the process this one waited for
            return target
        data = derive(source)
        handle, temporary = tempfile.mkstemp(dir=derived_dir, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())  # on disk before it gets the name a loader opens
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    log.info("derived %s with its %s output: %s", source.name, suffix, target)
    return target
