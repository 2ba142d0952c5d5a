"""Model files from the Hugging Face Hub against a local mirror (simulator/hub.py): fetched
whole and checksummed, once per machine however many processes ask, found in the cache without
the network, and refused clearly (naming repo@revision and the endpoint, never the token)."""

from __future__ import annotations

import errno
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from config import PROJECT_ROOT
from tests.hub_mirror import (
    GATED,
    GATED_TOKEN,
    KOKORO,
    MODEL,
    PATTERNS,
    TEXT,
    TINY,
    access_to,
    sha256_of,
)
from utils.embedded_redis import free_port
from utils.errors import ProviderRejected
from utils.models import hub_check, hub_errors
from utils.models.hub import HubRepo, cached, fetch, repo_file_sizes, repo_files, search


def closed_endpoint() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(ProviderRejected) as caught:
        call(*args, **kwargs)
    return str(caught.value)


def source_files(mirror, repo_id: str) -> dict[str, Path]:
    root = mirror.repos[repo_id].root
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}


def test_the_kokoro_files_are_fetched_whole_and_then_found_without_the_hub(hub_mirror, tmp_path):
    repo, access = HubRepo(KOKORO), access_to(hub_mirror, tmp_path / "hub")
    assert cached(repo, PATTERNS, access) is None
    snapshot = fetch(repo, PATTERNS, access, "kokoro")
    sources = source_files(hub_mirror, KOKORO)
    fetched = {p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if p.is_file()}
    assert fetched == set(sources) - {"README.md"} and len(fetched) == 8
    for path in fetched:
        assert (snapshot / path).stat().st_size == sources[path].stat().st_size, path
        assert sha256_of(snapshot / path) == sha256_of(sources[path]), path
    assert (snapshot / MODEL).stat().st_size > 90_000_000
    assert hub_mirror.downloads(KOKORO, MODEL) == 1

    # again: nothing downloaded, nothing hashed
    hashed = []
    original = hub_check._sha256
    hub_check._sha256 = lambda path: hashed.append(path) or original(path)
    try:
        assert fetch(repo, PATTERNS, access, "kokoro") == snapshot
        assert cached(repo, PATTERNS, access) == snapshot
    finally:
        hub_check._sha256 = original
    assert hashed == [] and hub_mirror.downloads(KOKORO, MODEL) == 1

    # the Hub gone, or never asked: the cache answers
    away = access_to(closed_endpoint(), tmp_path / "hub")
    offline = access.model_copy(update={"offline": True})
    requests = hub_mirror.requests
    for other in (away, offline):
        assert cached(repo, PATTERNS, other) == snapshot
        assert fetch(repo, PATTERNS, other, "kokoro") == snapshot
        assert cached(repo, [*PATTERNS, "README.md"], other) is None  # never fetched
    assert hub_mirror.requests == requests


def test_four_processes_asking_at_once_download_the_model_once(hub_mirror, tmp_path):
    cache, go = tmp_path / "hub", tmp_path / "go"
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from settings.hub import HubAccess
        from utils.models.hub import HubRepo, fetch
        access = HubAccess(endpoint={hub_mirror.url!r}, cache_dir={str(cache)!r})
        Path(sys.argv[1]).touch()
        while not Path({str(go)!r}).exists():
            time.sleep(0.01)
        print(fetch(HubRepo({KOKORO!r}), {PATTERNS!r}, access, "kokoro"))
        """
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path / f"ready-{i}")],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    deadline = time.monotonic() + 30
    while not all((tmp_path / f"ready-{i}").exists() for i in range(4)):
        assert time.monotonic() < deadline, "the processes did not start"
        time.sleep(0.01)
    go.touch()
    outputs = [process.communicate(timeout=60) for process in processes]
    assert [p.returncode for p in processes] == [0] * 4, [err for _, err in outputs]
    snapshots = {out.strip() for out, _ in outputs}
    assert len(snapshots) == 1
    assert hub_mirror.downloads(KOKORO, MODEL) == 1
    assert hub_mirror.downloads(KOKORO, "voices/jf_alpha.bin") == 1
    model = Path(snapshots.pop()) / MODEL
    assert sha256_of(model) == sha256_of(hub_mirror.repos[KOKORO].root / MODEL)


def test_a_corrupted_download_is_refused_and_nothing_of_it_kept(hub_mirror, tmp_path):
    repo, access = HubRepo(TINY), access_to(hub_mirror, tmp_path / "hub")
    hub_mirror.corrupt.add((TINY, MODEL))
    message = refusal(fetch, repo, PATTERNS, access, "kokoro")
    assert f"{TINY}@main" in message and "checksum" in message and MODEL in message
    assert hub_mirror.url in message
    assert cached(repo, PATTERNS, access) is None
    assert cached(repo, PATTERNS, access.model_copy(update={"offline": True})) is None
    sha256 = hub_mirror.repos[TINY].files()[MODEL].sha256
    assert not list((tmp_path / "hub").rglob(sha256))  # neither the blob nor its marker
    assert refusal(fetch, repo, PATTERNS, access.model_copy(update={"offline": True}), "k")

    hub_mirror.corrupt.clear()
    snapshot = fetch(repo, PATTERNS, access, "kokoro")
    assert sha256_of(snapshot / MODEL) == sha256
    assert cached(repo, PATTERNS, access) == snapshot
    assert hub_mirror.downloads(TINY, MODEL) == 2


def test_a_file_changed_in_the_cache_is_found_out(hub_mirror, tmp_path):
    repo, access = HubRepo(TINY), access_to(hub_mirror, tmp_path / "hub")
    snapshot = fetch(repo, PATTERNS, access, "kokoro")
    blob = (snapshot / MODEL).resolve()
    data = bytearray(blob.read_bytes())
    data[100] ^= 0xFF
    blob.write_bytes(bytes(data))
    assert cached(repo, PATTERNS, access) is None
    offline = access.model_copy(update={"offline": True})
    assert "checksum" in refusal(fetch, repo, PATTERNS, offline, "kokoro")
    assert not blob.exists()
    assert fetch(repo, PATTERNS, access, "kokoro") == snapshot  # downloaded again
    assert hub_mirror.downloads(TINY, MODEL) == 2


def test_an_unreachable_hub_fails_fast_naming_the_model_and_the_endpoint(tmp_path):
    endpoint = closed_endpoint()
    access = access_to(endpoint, tmp_path / "hub", token=GATED_TOKEN)
    started = time.monotonic()
    messages = [
        refusal(fetch, HubRepo(TINY, "v1.0"), PATTERNS, access, "kokoro"),
        refusal(repo_files, HubRepo(TINY, "v1.0"), access, "kokoro"),
        refusal(search, access, "kokoro"),
    ]
    assert time.monotonic() - started < 5
    for message in messages:
        assert endpoint in message and "could not be reached" in message
        assert GATED_TOKEN not in message
    assert f"{TINY}@v1.0" in messages[0] and f"{TINY}@v1.0" in messages[1]


def test_a_slow_hub_fails_within_the_etag_timeout(hub_mirror, tmp_path):
    hub_mirror.delay_s = 3
    access = access_to(hub_mirror, tmp_path / "hub", etag_timeout_s=0.5)
    started = time.monotonic()
    message = refusal(fetch, HubRepo(TINY), PATTERNS, access, "kokoro")
    assert time.monotonic() - started < 3
    assert "timed out" in message and f"{TINY}@main" in message


def test_a_gated_repository_needs_its_token_which_is_never_said(hub_mirror, tmp_path):
    repo, cache = HubRepo(GATED), tmp_path / "hub"
    without = refusal(fetch, repo, PATTERNS, access_to(hub_mirror, cache), "kokoro")
    assert "HTTP 401" in without and "gated" in without and "HF_TOKEN" in without
    assert f"{GATED}@main" in without and hub_mirror.url in without
    wrong = access_to(hub_mirror, cache, token="hf_someoneElsesToken")
    other = refusal(fetch, repo, PATTERNS, wrong, "kokoro")
    assert "HTTP 403" in other and "has no access" in other
    assert "hf_someoneElsesToken" not in other
    assert cached(repo, PATTERNS, access_to(hub_mirror, cache)) is None

    access = access_to(hub_mirror, cache, token=GATED_TOKEN)
    snapshot = fetch(repo, PATTERNS, access, "kokoro")
    assert sha256_of(snapshot / MODEL) == hub_mirror.repos[GATED].files()[MODEL].sha256
    missing = refusal(fetch, repo, ["nothing/*.onnx"], access, "kokoro")
    assert "nothing/*.onnx" in missing and GATED_TOKEN not in missing


def test_offline_and_not_cached_is_said_without_asking_the_hub(hub_mirror, tmp_path):
    access = access_to(hub_mirror, tmp_path / "hub", offline=True)
    for message in (
        refusal(fetch, HubRepo(TINY), PATTERNS, access, "kokoro"),
        refusal(repo_files, HubRepo(TINY), access, "kokoro"),
    ):
        assert "offline" in message and "not in the cache" in message and f"{TINY}@main" in message
    assert "offline" in refusal(search, access)
    assert hub_mirror.requests == 0


def test_what_is_not_there_is_named(hub_mirror, tmp_path):
    access = access_to(hub_mirror, tmp_path / "hub")
    no_repo = refusal(fetch, HubRepo("test-org/nothing-here"), PATTERNS, access, "kokoro")
    assert "HTTP 404" in no_repo and "no such repository" in no_repo
    assert "test-org/nothing-here@main" in no_repo
    no_revision = refusal(fetch, HubRepo(TINY, "v9"), PATTERNS, access, "kokoro")
    assert "HTTP 404" in no_revision and "no such revision" in no_revision
    no_file = refusal(fetch, HubRepo(TINY), [*PATTERNS, "onnx/model_fp16.onnx"], access, "k")
    assert "'onnx/model_fp16.onnx'" in no_file


def test_a_revision_pinned_to_a_commit_is_fetched_and_found(hub_mirror, tmp_path):
    commit = hub_mirror.repos[TINY].sha
    repo, access = HubRepo(TINY, commit), access_to(hub_mirror, tmp_path / "hub")
    snapshot = fetch(repo, ["voices/*.bin"], access, "kokoro")
    assert snapshot.name == commit
    assert sorted(p.name for p in (snapshot / "voices").iterdir()) == ["af_one.bin", "am_two.bin"]
    offline = access.model_copy(update={"offline": True})
    assert cached(repo, ["voices/*.bin"], offline) == snapshot
    assert cached(HubRepo(TINY), ["voices/*.bin"], offline) is None  # main never resolved here


def test_repository_files_from_the_hub_and_then_from_the_cache(hub_mirror, tmp_path):
    repo, access = HubRepo(TINY), access_to(hub_mirror, tmp_path / "hub")
    sources = source_files(hub_mirror, TINY)
    assert repo_files(repo, access, "kokoro") == sorted(sources)
    sizes = repo_file_sizes(repo, access, "kokoro")
    assert sizes == {path: file.stat().st_size for path, file in sources.items()}

    offline = access.model_copy(update={"offline": True})
    away = access_to(closed_endpoint(), tmp_path / "hub")
    assert "not in the cache" in refusal(repo_files, repo, offline, "kokoro")
    fetch(repo, ["config.json"], access, "kokoro")  # the cache now knows the whole listing
    assert repo_files(repo, offline, "kokoro") == sorted(sources)
    assert repo_file_sizes(repo, away, "kokoro") == sizes


def test_search_lists_text_to_speech_models_of_the_mirror(hub_mirror, tmp_path):
    access = access_to(hub_mirror, tmp_path / "hub")
    found = search(access)
    assert [model["id"] for model in found] == [KOKORO, TINY, GATED]
    assert TEXT not in {model["id"] for model in found}
    assert found[0]["downloads"] == 1000 and found[0]["likes"] == 50
    assert found[0]["last_modified"].startswith("2025-01-31")
    assert [model["id"] for model in search(access, "TINY")] == [TINY]
    assert len(search(access, limit=1)) == 1
    assert search(access, "no-such-model") == []


def test_a_full_disk_and_an_endpoint_with_credentials_are_said_plainly(tmp_path):
    access = access_to("https://user:pass@hub.example/", tmp_path / "hub", token=GATED_TOKEN)
    full = hub_errors.reason(OSError(errno.ENOSPC, "No space left on device"), access)
    assert full.startswith("disk full") and str(tmp_path / "hub") in full
    refused = hub_errors.refused("kokoro", "model a/b@main could not be fetched", access, full)
    assert "https://hub.example:" in str(refused) and "pass" not in str(refused)
    said = hub_errors.refused("kokoro", "x", access, f"echoed {GATED_TOKEN}")
    assert GATED_TOKEN not in str(said)
