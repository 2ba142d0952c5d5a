"""Piper catalogue voices against a local mirror: fetched once per machine, verified, loaded
once per process (least recently used unloaded), refused clearly and at once when they cannot
be had."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config import PROJECT_ROOT, ProviderConfig, VoiceCatalogueSettings
from utils.cpus import usable_cpus
from utils.embedded_redis import free_port
from utils.errors import ProviderRejected
from workers.providers.base import SynthesisRequest
from workers.providers.piper import PiperProvider
from workers.providers.piper_catalogue import VoiceCatalogue
from workers.providers.piper_fetch import fetch_voice
from workers.providers.piper_loaded import LoadedVoices

GERMAN, FRENCH, MULTI = "de_DE-test-medium", "fr_FR-test-low", "en_GB-test_multi-medium"


def settings_for(url: str, directory: Path, **changes) -> VoiceCatalogueSettings:
    return VoiceCatalogueSettings(url=url, directory=directory, timeout_s=2.0, **changes)


def catalogue_of(mirror, tmp_path: Path, **changes) -> VoiceCatalogue:
    return VoiceCatalogue(settings_for(mirror.url, tmp_path / "voices", **changes))


def piper_of(url: str, tmp_path: Path, **changes) -> PiperProvider:
    catalogue = settings_for(url, tmp_path / "voices", **changes)
    return PiperProvider("piper", ProviderConfig(type="piper", catalogue=catalogue))


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob(".*.part"))


def test_a_voice_is_fetched_verified_and_then_found_on_disk(voice_mirror, tmp_path):
    catalogue = catalogue_of(voice_mirror, tmp_path)
    voice = catalogue.voices()[GERMAN]
    fetched = fetch_voice(catalogue, voice)
    assert fetched.model == tmp_path / "voices" / f"{GERMAN}.onnx"
    assert fetched.downloaded_bytes == voice.model.size_bytes + voice.config.size_bytes
    assert fetched.model.stat().st_size == voice.model.size_bytes
    assert Path(f"{fetched.model}.json").is_file() and not leftovers(fetched.model.parent)
    assert fetch_voice(catalogue, voice).downloaded_bytes == 0
    assert voice_mirror.requests(voice_mirror.files(GERMAN)["model"]) == 1


def _fetch_in_a_process(url: str, directory: str, barrier) -> tuple[str, int]:
    catalogue = VoiceCatalogue(settings_for(url, Path(directory)))
    voice = catalogue.voices()[FRENCH]
    barrier.wait()  # every process asks at the same moment
    fetched = fetch_voice(catalogue, voice)
    return str(fetched.model), fetched.downloaded_bytes


def test_four_processes_asking_at_once_download_once(voice_mirror, tmp_path):
    voice_mirror.delay_s = 0.3  # the download takes a while, so the others arrive during it
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(4)
    args = [(voice_mirror.url, str(tmp_path / "voices"), barrier)] * 4
    with context.Pool(4) as pool:
        results = pool.starmap(_fetch_in_a_process, args)
    assert voice_mirror.requests(voice_mirror.files(FRENCH)["model"]) == 1
    assert voice_mirror.requests(voice_mirror.files(FRENCH)["config"]) == 1
    assert len({model for model, _ in results}) == 1
    assert sorted(downloaded > 0 for _, downloaded in results) == [False, False, False, True]


def test_a_wrong_checksum_is_refused_and_nothing_is_kept(voice_mirror, tmp_path):
    catalogue = catalogue_of(voice_mirror, tmp_path)
    voice = catalogue.voices()[FRENCH]
    model_path = voice_mirror.files(FRENCH)["model"]
    voice_mirror.corrupt.add(model_path)  # same size, other bytes: only the MD5 can tell
    with pytest.raises(ProviderRejected) as refused:
        fetch_voice(catalogue, voice)
    message = str(refused.value)
    assert f"voice {FRENCH!r}" in message and f"{voice_mirror.url}/{model_path}" in message
    assert "checksum mismatch" in message and "deleted" in message
    directory = tmp_path / "voices"
    assert not (directory / f"{FRENCH}.onnx").exists() and not leftovers(directory)
    voice_mirror.corrupt.clear()
    assert fetch_voice(catalogue, voice).downloaded_bytes > 0  # the next try starts clean


def test_a_file_the_catalogue_cannot_serve_is_refused_naming_it(voice_mirror, tmp_path):
    provider = piper_of(voice_mirror.url, tmp_path)
    model_path = voice_mirror.files(GERMAN)["model"]
    voice_mirror.missing.add(model_path)
    with pytest.raises(ProviderRejected, match=f"{GERMAN}.*{voice_mirror.url}/{model_path}.*404"):
        provider.synthesize(SynthesisRequest(text="Hallo.", voice=GERMAN))


def test_an_unreachable_catalogue_fails_at_once_naming_voice_and_url(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/voices"
    provider = piper_of(url, tmp_path)
    started = time.monotonic()
    with pytest.raises(ProviderRejected) as refused:
        provider.synthesize(SynthesisRequest(text="Hallo.", voice=GERMAN))
    assert time.monotonic() - started < 3
    assert f"unknown voice {GERMAN!r}: not installed, and the voice catalogue" in str(refused.value)
    assert f"{url}/voices.json" in str(refused.value)
    # installed voices are still listed (and accepted at submit), with the reason said
    assert provider.voice_ids() == ["en_US-joe-medium"]
    assert "only the installed voices are accepted" in provider.voice_list_note()


def test_the_catalogue_is_kept_on_disk_and_read_again_past_its_age(voice_mirror, tmp_path):
    assert GERMAN in catalogue_of(voice_mirror, tmp_path).voices()
    assert GERMAN in catalogue_of(voice_mirror, tmp_path).voices()  # another process: disk
    assert voice_mirror.requests("voices.json") == 1
    assert GERMAN in catalogue_of(voice_mirror, tmp_path, max_age_s=0).voices()
    assert voice_mirror.requests("voices.json") == 2
    # past its age with the catalogue away: the stale copy serves
    dead = VoiceCatalogue(settings_for(f"http://127.0.0.1:{free_port()}", tmp_path / "voices"))
    dead.index_path.parent.mkdir(parents=True, exist_ok=True)
    catalogue_of(voice_mirror, tmp_path).index_path.rename(dead.index_path)
    assert GERMAN in VoiceCatalogue(dead.settings.model_copy(update={"max_age_s": 0})).voices()


def test_the_bundled_voice_is_never_downloaded(voice_mirror, tmp_path):
    provider = piper_of(voice_mirror.url, tmp_path)
    assert "en_US-joe-medium" in provider._catalogue()  # the public catalogue lists it too
    audio = provider.synthesize(SynthesisRequest(text="Hello.", voice="en_US-joe-medium"))
    assert audio.data
    assert voice_mirror.requests(voice_mirror.files("en_US-joe-medium")["model"]) == 0
    assert provider.language_of("en_US-joe-medium") == "en_US"


def test_least_recently_used_voices_are_unloaded_past_the_limit():
    loads = []
    loaded = LoadedVoices(2, lambda key: loads.append(key) or object())
    first = loaded.get("a")
    loaded.get("b")
    assert loaded.get("a") is first  # loaded once
    loaded.get("c")  # b is the least recently used
    assert loaded.keys() == ["a", "c"] and loads == ["a", "b", "c"]
    loaded.get("b")
    assert loaded.keys() == ["c", "b"] and loads == ["a", "b", "c", "b"]


def test_a_speaker_is_passed_to_piper_by_name_or_index(voice_mirror, tmp_path, monkeypatch):
    provider = piper_of(voice_mirror.url, tmp_path)
    provider.voice_ids()
    assert provider.speakers_of(MULTI) == {"p225": 0, "p226": 1, "p227": 2}
    assert provider.speakers_of(GERMAN) == {}
    seen = []

    class Voice:
        class config:  # noqa: N801 - as PiperVoice has it
            sample_rate = 22050
            espeak_voice = "en-us"

        def synthesize(self, text, config, include_alignments=False):
            seen.append(config.speaker_id)
            return []

    monkeypatch.setattr(provider.loaded, "get", lambda key: Voice())
    for speaker in ("p226", "2", None):
        provider.synthesize(SynthesisRequest(text="Hi.", voice=MULTI, speaker=speaker))
    assert seen == [1, 2, None]
    with pytest.raises(ProviderRejected, match="no speaker 'p999'; speakers: p225, p226, p227"):
        provider.synthesize(SynthesisRequest(text="Hi.", voice=MULTI, speaker="p999"))
    with pytest.raises(ProviderRejected, match="single speaker"):
        provider.synthesize(SynthesisRequest(text="Hi.", voice=GERMAN, speaker="0"))


def test_the_fetch_command_fetches_verifies_and_says_so(voice_mirror, tmp_path):
    def run(*args):
        command = [sys.executable, "-m", "scripts.fetch_voices", "--url", voice_mirror.url]
        command += ["--dir", str(tmp_path / "voices"), *args]
        return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)

    done = run(FRENCH, "--language", "de")
    assert done.returncode == 0, done.stderr
    assert f"{FRENCH}: fetched" in done.stdout and f"{GERMAN}: fetched" in done.stdout
    assert "size and MD5 verified" in done.stdout
    assert (tmp_path / "voices" / f"{GERMAN}.onnx").is_file()
    again = run(GERMAN)
    assert again.returncode == 0 and f"{GERMAN}: already in" in again.stdout
    wrong = run("de_DE-test-mediun")
    assert wrong.returncode == 1 and f"did you mean {GERMAN}" in wrong.stderr
    listed = run("--list", "--language", "en_GB")
    assert listed.stdout.strip() == f"{MULTI}  English (en_GB), 3 speakers"


def test_a_block_made_alone_runs_on_every_core_and_sounds_the_same():
    import numpy as np

    provider = PiperProvider("piper", ProviderConfig(type="piper"))
    text = "The lamps were lit along the quay as the last boat came in."
    voice = provider.default_voice
    shared = provider.synthesize(SynthesisRequest(text=text, voice=voice))
    assert provider.loaded_wide.keys() == []  # built only when a block is made alone
    alone = provider.synthesize(SynthesisRequest(text=text, voice=voice, alone=True))
    assert provider.loaded_wide.keys() == [voice]
    wide_session = provider.loaded_wide.get(voice).session
    assert wide_session.get_session_options().intra_op_num_threads == usable_cpus() > 1
    assert provider.loaded.get(voice).session.get_session_options().intra_op_num_threads == 1
    a, b = (np.frombuffer(x.data, "<i2").astype(float) for x in (shared, alone))
    assert a.size == b.size and np.corrcoef(a, b)[0, 1] > 0.999  # the same speech
