"""Model files from the Hugging Face Hub (or a mirror laid out the same way), by repository
id and revision, into huggingface_hub's own cache (HF_HUB_CACHE): shared by every process of
the machine, and by any other tool that uses the Hub.

The download itself is huggingface_hub's (snapshot_download), given everything explicitly
from a HubAccess: endpoint, token (False when none, so a token of the machine's is never sent
by surprise), cache, timeouts. On top of it, the guarantees the Piper voice catalogue gives:

- once per machine: a fetch holds the repository's lock (an fcntl lock beside huggingface_hub's
  own, released by the kernel if its process dies), and finds the files there once it has it;
- checksummed: each file's size and each LFS file's SHA-256 are checked against the Hub's
  listing before the snapshot is handed out (hub_check.py); a mismatch deletes the file;
- never a half-written file: huggingface_hub renames a file into place whole, and cached()
  returns a snapshot only when every file is there and checked;
- fail fast: the listing is asked first, with the etag timeout and no retries, so an unreachable
  Hub fails in that time (or falls back to the cache) instead of huggingface_hub's retry loops;
- clear errors: ProviderRejected naming the model (repo@revision), the endpoint and the cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx2
from huggingface_hub import HfApi, constants, snapshot_download
from huggingface_hub.errors import HFValidationError
from huggingface_hub.hf_api import ModelInfo
from huggingface_hub.utils import (
    OfflineModeIsEnabled,
    build_hf_headers,
    get_session,
    hf_raise_for_status,
)
from tqdm.auto import tqdm

from settings.hub import HubAccess
from utils.models.hub_cache import (
    HubRepo,
    cache_root,
    cached_files,
    cached_tree,
    keep_ref,
    repo_lock,
    select,
    storage_folder,
)
from utils.models.hub_check import ChecksumMismatch, Expected, expected_sha256, is_verified, verify
from utils.models.hub_errors import OFFLINE, HubProblem, reason, refused, unreachable

__all__ = ["HubRepo", "cached", "fetch", "repo_file_sizes", "repo_files", "search"]
SEARCH_FIELDS = ("downloads", "likes", "lastModified", "pipeline_tag", "library_name", "tags")
# What a fetch may raise on the way, each said by hub_errors.reason().
FAILURES = (httpx2.HTTPError, OfflineModeIsEnabled, HubProblem, HFValidationError, OSError)


def fetch(repo: HubRepo, patterns: Sequence[str], access: HubAccess, owner: str) -> Path:
    """The snapshot directory holding every file of `repo` that matches the glob `patterns`
    (none given: the whole repository), downloaded and checked if it was not; ProviderRejected
    (for `owner`) when it cannot be."""
    try:
        with repo_lock(access, repo):
            return _fetch_locked(repo, list(patterns) or ["*"], access)
    except (*FAILURES, ChecksumMismatch) as exc:
        what = f"model {repo} could not be fetched"
        raise refused(owner, what, access, reason(exc, access)) from None


def cached(repo: HubRepo, patterns: Sequence[str], access: HubAccess) -> Path | None:
    """The snapshot directory if every file matching `patterns` is in the cache, checked;
    None otherwise. Never the network, never a hash: a stat per file."""
    found = cached_files(repo, list(patterns) or ["*"], access)
    if found is None:
        return None
    (snapshot, files), storage = found, storage_folder(access, repo)
    for path in files:
        sha256 = expected_sha256(snapshot / path, None)
        if sha256 is not None and not is_verified(storage, snapshot / path, sha256):
            return None  # downloaded by another tool, or before a crash: fetch() checks it first
    return snapshot


def repo_files(repo: HubRepo, access: HubAccess, owner: str) -> list[str]:
    """The repository's file paths at that revision (the Hub's listing; offline or unreachable,
    the listing the cache keeps of it)."""
    return sorted(repo_file_sizes(repo, access, owner))


def repo_file_sizes(repo: HubRepo, access: HubAccess, owner: str) -> dict[str, int]:
    """Each file of the repository at that revision, with its size in bytes."""
    try:
        problem: BaseException = OfflineModeIsEnabled(OFFLINE)
        if not access.offline:
            try:
                return {path: e.size or 0 for path, e in _listing(repo, access)[1].items()}
            except FAILURES as exc:
                if not unreachable(exc):
                    raise
                problem = exc
        tree = cached_tree(repo, access)
        if tree is None:
            raise problem
        return {path: size or 0 for path, size in tree[1].items()}
    except FAILURES as exc:
        what = f"files of model {repo} could not be listed"
        raise refused(owner, what, access, reason(exc, access)) from None


def search(
    access: HubAccess, query: str | None = None, limit: int = 50, owner: str = "huggingface"
) -> list[dict]:
    """Text-to-speech ONNX models of the Hub, most downloaded first, as small dicts (id,
    downloads, likes, last_modified); ProviderRejected when the Hub cannot be asked.

    One request to /api/models with huggingface_hub's session and headers, rather than
    HfApi.list_models: that one has no timeout and retries an unreachable Hub for ~25 s."""
    if access.offline:
        raise refused(owner, "models could not be searched", access, "offline (HF_HUB_OFFLINE)")
    params: list[tuple[str, str]] = [
        ("pipeline_tag", "text-to-speech"),
        ("filter", "onnx"),
        ("sort", "downloads"),
        ("limit", str(limit)),
        *(("expand", name) for name in SEARCH_FIELDS),
    ]
    if query:
        params.append(("search", query))
    try:
        response = get_session().get(
            f"{_endpoint(access)}/api/models",
            params=params,
            headers=build_hf_headers(token=_token(access)),
            timeout=access.etag_timeout_s,
        )
        hf_raise_for_status(response)
        models = [ModelInfo(**item) for item in response.json()][:limit]
    except (*FAILURES, ValueError, KeyError, TypeError) as exc:
        why = reason(exc, access) if isinstance(exc, FAILURES) else "not a Hub answer"
        raise refused(owner, "models could not be searched", access, why) from None
    return [
        {
            "id": model.id,
            "downloads": model.downloads or 0,
            "likes": model.likes or 0,
            "last_modified": model.last_modified.isoformat() if model.last_modified else None,
        }
        for model in models
    ]


def _endpoint(access: HubAccess) -> str:
    return access.endpoint.rstrip("/")


def _token(access: HubAccess) -> str | bool:
    return access.token.get_secret_value() if access.token else False


def _fetch_locked(repo: HubRepo, patterns: list[str], access: HubAccess) -> Path:
    storage = storage_folder(access, repo)
    if access.offline:
        return _from_cache(repo, patterns, access, OfflineModeIsEnabled(OFFLINE))
    try:
        commit, listing = _listing(repo, access)
    except FAILURES as exc:
        if not unreachable(exc):
            raise
        return _from_cache(repo, patterns, access, exc)  # the Hub is away: the cache may do
    files = select(listing, patterns)
    # The one setting huggingface_hub takes only process-wide: how long a body may stall.
    constants.HF_HUB_DOWNLOAD_TIMEOUT = access.download_timeout_s
    snapshot = snapshot_download(
        repo.repo_id,
        revision=commit,
        cache_dir=cache_root(access),
        endpoint=_endpoint(access),
        token=_token(access),
        allow_patterns=patterns,
        etag_timeout=access.etag_timeout_s,
        max_workers=4,
        tqdm_class=_Quiet,
    )
    keep_ref(storage, repo.revision, commit)
    verify(storage, Path(snapshot), {path: listing[path] for path in files})
    return Path(snapshot)


def _from_cache(
    repo: HubRepo, patterns: list[str], access: HubAccess, problem: BaseException
) -> Path:
    found = cached_files(repo, patterns, access)
    if found is None:
        raise problem
    snapshot, files = found
    tree = cached_tree(repo, access)
    sizes = tree[1] if tree else {}
    verify(storage_folder(access, repo), snapshot, {p: Expected(sizes.get(p)) for p in files})
    return snapshot


def _listing(repo: HubRepo, access: HubAccess) -> tuple[str, dict[str, Expected]]:
    """The commit the revision names, and each file with its size and LFS SHA-256."""
    api = HfApi(endpoint=_endpoint(access), token=_token(access))
    info = api.model_info(
        repo.repo_id, revision=repo.revision, files_metadata=True, timeout=access.etag_timeout_s
    )
    if not info.sha:
        raise HubProblem("the Hub did not say which commit the revision is")
    files = {
        sibling.rfilename: Expected(sibling.size, sibling.lfs.sha256 if sibling.lfs else None)
        for sibling in info.siblings or []
    }
    return info.sha, files


class _Quiet(tqdm):
    """No progress bars on a worker's stderr."""

    def __init__(self, *args, **kwargs):
        kwargs["disable"] = True
        super().__init__(*args, **kwargs)
