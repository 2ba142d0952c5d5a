"""What a `kokoro` entry needs of its Hub repository, and what it says about it.

A repository laid out as onnx-community/Kokoro-82M-v1.0-ONNX holds several precisions of one
model (onnx/model*.onnx, 92-326 MB) and dozens of voices (voices/*.bin, 0.5 MB each). Only the
files in use are fetched: the vocabulary and the configured variant once, and each voice when
a block first names it. The voice list comes from the repository's file list (remembered for
a while, so submitting a job does not ask the Hub each time), or from the cache when the Hub
cannot be reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from settings.local_models import KOKORO_REPO, KOKORO_VARIANT_FILES, LocalEngine
from settings.providers import ProviderConfig
from utils.errors import ProviderError
from utils.models.hub import HubRepo, cached, fetch, repo_file_sizes
from workers.providers.listing import RememberedListing

VOCABULARY = ("config.json", "tokenizer.json")
VOICES_DIR = "voices/"


def voice_file(name: str) -> str:
    return f"{VOICES_DIR}{name}.bin"


@dataclass(frozen=True)
class ModelFiles:
    repo: HubRepo
    variant: str
    variant_file: str


class KokoroRepository:
    def __init__(self, name: str, config: ProviderConfig):
        self.name = name
        # An entry built without Settings (a test's, a script's) gets the defaults Settings fills.
        self.engine = config.engine or LocalEngine()
        self.access = self.engine.hub
        self.voices_timeout_s = config.voices_timeout_s
        self.files = ModelFiles(
            HubRepo(config.model or KOKORO_REPO, config.revision or "main"),
            config.variant or "int8",
            KOKORO_VARIANT_FILES[config.variant or "int8"],
        )
        self._sizes = RememberedListing(
            name, lambda: list(self._file_sizes().items()), config.voices_cache_ttl_s
        )
        self.problem: str | None = None

    @property
    def repo(self) -> HubRepo:
        return self.files.repo

    def _file_sizes(self) -> dict[str, int]:
        # Asked at submit to check a voice: held to the entry's voices_timeout_s (3 s), not the
        # Hub's etag timeout, so a slow Hub never holds up a request for long.
        quick = self.access.model_copy(update={"etag_timeout_s": self.voices_timeout_s})
        return repo_file_sizes(self.repo, quick, self.name)

    def sizes(self) -> dict[str, int]:
        """Every file of the repository and its size; {} when neither the Hub nor the cache
        can say (the reason in `problem`)."""
        try:
            found = dict(self._sizes.get())
        except ProviderError as exc:
            self.problem = str(exc)
            return {}
        self.problem = None
        return found

    def voice_names(self) -> list[str]:
        return sorted(
            path.removeprefix(VOICES_DIR).removesuffix(".bin")
            for path in self.sizes()
            if path.startswith(VOICES_DIR) and path.endswith(".bin")
        )

    def model_dir(self) -> Path:
        """The snapshot holding the vocabulary and the variant, fetched if need be."""
        return fetch(self.repo, [*VOCABULARY, self.files.variant_file], self.access, self.name)

    def voice_path(self, voice: str) -> Path:
        return fetch(self.repo, [voice_file(voice)], self.access, self.name) / voice_file(voice)

    def installed(self) -> bool:
        return cached(self.repo, [*VOCABULARY, self.files.variant_file], self.access) is not None
