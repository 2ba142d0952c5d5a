"""Fetch a Kokoro model and voices ahead of time: `python -m scripts.fetch_voices --kokoro`.

The model (vocabulary and the configured precision, KOKORO_VARIANT) and the voices named (all
of the repository's with --all; the entry's default voice without either) go into the Hub's
cache (HF_HUB_CACHE) exactly as a worker's first block would put them, checksummed and safe to
run beside running workers, so a machine or image made this way serves Kokoro with
HF_HUB_OFFLINE=1.
"""

from __future__ import annotations

import sys
import time

from config import Settings
from settings.providers import ProviderConfig
from utils.errors import ProviderRejected
from workers.providers.kokoro_repo import KokoroRepository


def kokoro_entry(settings: Settings, name: str) -> ProviderConfig:
    """The PROVIDERS entry `name` if it is a kokoro one; else one from the KOKORO_* settings."""
    entry = settings.PROVIDERS.get(name)
    if entry is not None and entry.type == "kokoro":
        return entry
    return Settings(PROVIDERS={name: {"type": "kokoro"}}, DEFAULT_PROVIDER=name).PROVIDERS[name]


def fetch(settings: Settings, name: str, voices: list[str], every_voice: bool) -> int:
    entry = kokoro_entry(settings, name)
    repository = KokoroRepository(name, entry)
    started = time.perf_counter()
    try:
        directory = repository.model_dir()
        print(
            f"{repository.repo} ({repository.files.variant}): in {directory} "
            f"({time.perf_counter() - started:.1f} s, checksums verified)"
        )
        known = repository.voice_names()
    except ProviderRejected as exc:
        print(exc, file=sys.stderr)
        return 1
    wanted = known if every_voice else voices or [entry.default_voice]
    failed = 0
    for voice in wanted:
        if known and voice not in known:
            print(f"{voice}: not a voice of {repository.repo}", file=sys.stderr)
            failed += 1
            continue
        try:
            print(f"{voice}: {repository.voice_path(voice)}")
        except ProviderRejected as exc:
            print(exc, file=sys.stderr)
            failed += 1
    return 1 if failed else 0
