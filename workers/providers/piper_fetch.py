"""Catalogue voices fetched into the voice directory, safely for every process of the machine.

A voice is two files, `{key}.onnx.json` then `{key}.onnx`, side by side in the directory (the
layout of piper's own download command and of a `voices_dir`); the model is written last, so a
model on disk means its config is there too. Each file is streamed to a temporary file in the
same directory, its size and MD5 checked against voices.json, then os.replace'd into place:
nothing half-written or corrupt ever has the name a loader opens.

However many processes ask for a voice at once, one downloads it: each takes the voice's
fcntl lock (a file beside the voices) and looks again once it holds it. The lock is the
kernel's, so a process that dies while downloading releases it, and the next one starts over.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from utils.errors import ProviderRejected
from workers.providers.piper_catalogue import (
    CatalogueVoice,
    VoiceCatalogue,
    VoiceFile,
    http_reason,
)

CHUNK = 1 << 20


@dataclass(frozen=True)
class Fetched:
    """What fetch_voice did: the model's path, and the bytes it downloaded (0: on disk)."""

    model: Path
    downloaded_bytes: int


def installed_model(directory: Path, key: str) -> Path | None:
    """The voice's model in `directory`, if both its files are there."""
    model = Path(directory) / f"{key}.onnx"
    return model if model.is_file() and Path(f"{model}.json").is_file() else None


@contextmanager
def voice_lock(directory: Path, key: str) -> Iterator[None]:
    """Held by one process of the machine at a time, per voice; waits for its turn."""
    locks = Path(directory) / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{key}.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fetch_voice(catalogue: VoiceCatalogue, voice: CatalogueVoice) -> Fetched:
    """The voice on disk, downloaded and verified if it was not; ProviderRejected naming the
    voice and the URL when it cannot be (a checksum mismatch included: nothing is kept)."""
    directory = catalogue.directory
    if (model := installed_model(directory, voice.key)) is not None:
        return Fetched(model, 0)
    try:
        return _fetch_locked(catalogue, voice)
    except OSError as exc:  # the voice directory: read-only, full, missing
        raise ProviderRejected(
            catalogue.provider, f"voice {voice.key!r} could not be stored in {directory}: {exc}"
        ) from None


def _fetch_locked(catalogue: VoiceCatalogue, voice: CatalogueVoice) -> Fetched:
    directory = catalogue.directory
    directory.mkdir(parents=True, exist_ok=True)
    with voice_lock(directory, voice.key):
        # another process may have fetched it while this one waited for the lock
        if (model := installed_model(directory, voice.key)) is not None:
            return Fetched(model, 0)
        _drop_leftovers(directory, voice.key)
        timeout = httpx.Timeout(
            catalogue.settings.download_timeout_s, connect=catalogue.settings.timeout_s
        )
        downloaded = 0
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            for file, suffix in ((voice.config, ".onnx.json"), (voice.model, ".onnx")):
                target = directory / f"{voice.key}{suffix}"
                downloaded += _download(client, catalogue, voice.key, file, target)
    return Fetched(directory / f"{voice.key}.onnx", downloaded)


def _download(
    client: httpx.Client, catalogue: VoiceCatalogue, key: str, file: VoiceFile, target: Path
) -> int:
    url = catalogue.file_url(file)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        md5, size = hashlib.md5(usedforsecurity=False), 0
        with os.fdopen(handle, "wb") as out:
            try:
                with client.stream("GET", url) as response:
                    response.raise_for_status()
                    for chunk in response.iter_bytes(CHUNK):
                        md5.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
            except httpx.HTTPError as exc:
                raise _refused(catalogue, key, url, http_reason(exc)) from None
            out.flush()
            os.fsync(out.fileno())  # on disk before it gets the name a loader opens
        if size != file.size_bytes or md5.hexdigest() != file.md5_digest:
            raise _refused(
                catalogue,
                key,
                url,
                f"checksum mismatch (got {size} bytes, MD5 {md5.hexdigest()}; the catalogue "
                f"says {file.size_bytes} bytes, MD5 {file.md5_digest}); the file was deleted",
            )
        os.replace(temp, target)
        return size
    finally:
        Path(temp).unlink(missing_ok=True)


def _refused(catalogue: VoiceCatalogue, key: str, url: str, reason: str) -> ProviderRejected:
    return ProviderRejected(
        catalogue.provider, f"voice {key!r} could not be fetched from {url}: {reason}"
    )


def _drop_leftovers(directory: Path, key: str) -> None:
    """Temporary files of a download that died with its process (the lock is held: nobody
    else writes this voice now)."""
    for leftover in directory.glob(f".{key}.onnx*.part"):
        leftover.unlink(missing_ok=True)
