"""The public Piper voice catalogue (rhasspy/piper-voices, or a mirror laid out the same way):
`voices.json` at its root maps each voice key (`en_US-lessac-medium`) to its language,
quality, speakers and files, each file at a path below the root with its size and MD5.

voices.json is kept on disk beside the voices (one copy per catalogue URL), so every process
of the machine reads the same list and only one refresh in PIPER_CATALOGUE_MAX_AGE_S goes out.
Reading it never holds a caller long: the fetch gives up after the configured timeout, a
failure is remembered briefly (the next callers hear it at once instead of each waiting), and a
stale copy is used while the catalogue cannot be reached.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from config import VoiceCatalogueSettings
from utils.errors import ProviderRejected

FAILURE_MEMORY_S = 30.0
INDEX = "voices.json"


@dataclass(frozen=True)
class VoiceFile:
    path: str  # below the catalogue's root, as voices.json names it
    size_bytes: int
    md5_digest: str


@dataclass(frozen=True)
class CatalogueVoice:
    key: str
    name: str
    language_code: str  # en_US
    language_name: str  # English
    quality: str
    num_speakers: int
    speakers: dict[str, int]  # speaker name -> id (empty for a single speaker)
    model: VoiceFile  # the .onnx
    config: VoiceFile  # its .onnx.json

    @classmethod
    def from_entry(cls, key: str, entry: dict) -> CatalogueVoice:
        files = {
            path: VoiceFile(path, int(info["size_bytes"]), info["md5_digest"])
            for path, info in entry["files"].items()
        }
        language = entry.get("language") or {}
        return cls(
            key=key,
            name=entry.get("name") or key,
            language_code=language.get("code") or key.split("-")[0],
            language_name=language.get("name_english") or "",
            quality=entry.get("quality") or "",
            num_speakers=int(entry.get("num_speakers") or 1),
            speakers=dict(entry.get("speaker_id_map") or {}),
            model=next(f for p, f in files.items() if p.endswith(".onnx")),
            config=next(f for p, f in files.items() if p.endswith(".onnx.json")),
        )


def parse_index(raw: bytes) -> dict[str, CatalogueVoice]:
    """voices.json as CatalogueVoices; entries without a model and its config are left out."""
    voices = {}
    for key, entry in json.loads(raw).items():
        try:
            voices[key] = CatalogueVoice.from_entry(key, entry)
        except (KeyError, StopIteration, TypeError, ValueError):
            continue  # a malformed entry costs that voice, not the catalogue
    return voices


def write_atomically(path: Path, data: bytes) -> None:
    """Whole or not at all: readers (other processes) never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class VoiceCatalogue:
    """voices.json of one catalogue URL, read through its on-disk copy."""

    def __init__(self, settings: VoiceCatalogueSettings, provider: str = "piper"):
        self.settings = settings
        self.provider = provider
        self.url = settings.url.rstrip("/")
        self.directory = Path(settings.directory)
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        self.index_path = self.directory / ".catalogue" / f"voices-{digest}.json"
        self._lock = threading.Lock()
        self._voices: dict[str, CatalogueVoice] | None = None
        self._read_stamp: tuple[int, int] | None = None  # (mtime_ns, size) of what was parsed
        self._failure: str | None = None
        self._failed_at: float | None = None

    @property
    def index_url(self) -> str:
        return f"{self.url}/{INDEX}"

    def file_url(self, file: VoiceFile) -> str:
        return f"{self.url}/{file.path}"

    @property
    def problem(self) -> str | None:
        """Why the catalogue could not be read lately (None once it is)."""
        return self._failure

    def voices(self, timeout_s: float | None = None) -> dict[str, CatalogueVoice]:
        """The catalogue: the on-disk copy, fetched first if absent or past its age.

        ProviderRejected, naming the URL, if there is no copy and none can be fetched now.
        """
        with self._lock:
            age = self._age()
            if age is not None and age <= self.settings.max_age_s:
                return self._read()
            if not self._failed_recently():
                try:
                    self._fetch(timeout_s or self.settings.timeout_s)
                    return self._read()
                except ProviderRejected:
                    if age is None:
                        raise
            if age is not None:
                return self._read()  # stale beats nothing while the catalogue is away
            raise ProviderRejected(self.provider, self._failure or "catalogue unavailable")

    def cached(self) -> dict[str, CatalogueVoice]:
        """What the on-disk copy says, however old; empty without one. Never the network."""
        with self._lock:
            return self._read() if self._age() is not None else {}

    def _age(self) -> float | None:
        try:
            return time.time() - self.index_path.stat().st_mtime
        except FileNotFoundError:
            return None

    def _failed_recently(self) -> bool:
        return (
            self._failed_at is not None and time.monotonic() - self._failed_at <= FAILURE_MEMORY_S
        )

    def _read(self) -> dict[str, CatalogueVoice]:
        stat = self.index_path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._voices is None or stamp != self._read_stamp:
            self._voices = parse_index(self.index_path.read_bytes())
            self._read_stamp = stamp
        return self._voices

    def _fetch(self, timeout_s: float) -> None:
        try:
            response = httpx.get(self.index_url, timeout=timeout_s, follow_redirects=True)
            response.raise_for_status()
            parse_index(response.content)  # refuse what is not a catalogue before keeping it
        except (httpx.HTTPError, ValueError) as exc:
            self._failure = (
                f"the voice catalogue could not be read from {self.index_url}: {http_reason(exc)}"
            )
            self._failed_at = time.monotonic()
            raise ProviderRejected(self.provider, self._failure) from None
        try:
            write_atomically(self.index_path, response.content)
        except OSError as exc:  # a read-only or full disk: said like any other failure
            self._failure = f"voices.json could not be kept in {self.index_path.parent}: {exc}"
            self._failed_at = time.monotonic()
            raise ProviderRejected(self.provider, self._failure) from None
        self._failure = self._failed_at = None


def http_reason(exc: Exception) -> str:
    """A short cause a person can act on (no traceback, no headers)."""
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.HTTPError):
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return f"not a voice catalogue ({exc})"
