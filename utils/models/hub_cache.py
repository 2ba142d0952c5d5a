"""The machine's cache of Hub repositories, read without the network: huggingface_hub's own
layout (models--org--name/{refs,snapshots,blobs,trees}) under HF_HUB_CACHE, and the lock a
fetch holds per repository."""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import constants, get_cached_repo_tree
from huggingface_hub.errors import CachedRepoTreeNotFoundError
from huggingface_hub.file_download import repo_folder_name
from huggingface_hub.utils import filter_repo_objects

from settings.hub import HubAccess
from utils.models.hub_errors import HubProblem

COMMIT = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class HubRepo:
    """A model repository at a revision (a branch, a tag or a commit)."""

    repo_id: str
    revision: str = "main"

    def __str__(self) -> str:
        return f"{self.repo_id}@{self.revision}"


def cache_root(access: HubAccess) -> Path:
    return Path(access.cache_dir or constants.HF_HUB_CACHE).expanduser().resolve()


def storage_folder(access: HubAccess, repo: HubRepo) -> Path:
    """The repository's folder in the cache (models--org--name)."""
    return cache_root(access) / repo_folder_name(repo_id=repo.repo_id, repo_type="model")


def select(paths: Iterable[str], patterns: list[str]) -> list[str]:
    """The paths matching the patterns; HubProblem naming a pattern that matches none."""
    paths = list(paths)
    for pattern in patterns:
        if not any(True for _ in filter_repo_objects(paths, allow_patterns=[pattern])):
            raise HubProblem(f"no file of the repository matches {pattern!r}")
    return list(filter_repo_objects(paths, allow_patterns=patterns))


def commit_of(storage: Path, revision: str) -> str | None:
    if COMMIT.fullmatch(revision):
        return revision
    try:
        return (storage / "refs" / revision).read_text().strip() or None
    except OSError:
        return None


def cached_tree(repo: HubRepo, access: HubAccess) -> tuple[str, dict[str, int | None]] | None:
    """The commit and file sizes the cache knows for the revision; None if it knows none."""
    commit = commit_of(storage_folder(access, repo), repo.revision)
    if commit is None:
        return None
    try:
        tree = get_cached_repo_tree(repo.repo_id, revision=commit, cache_dir=cache_root(access))
    except CachedRepoTreeNotFoundError:
        snapshot = storage_folder(access, repo) / "snapshots" / commit
        if not snapshot.is_dir():
            return None
        files = (p for p in snapshot.rglob("*") if p.is_file())
        return commit, {p.relative_to(snapshot).as_posix(): p.stat().st_size for p in files}
    return commit, {file.path: file.size for file in tree}


def cached_files(
    repo: HubRepo, patterns: list[str], access: HubAccess
) -> tuple[Path, list[str]] | None:
    """The snapshot and the files matching the patterns, if all of them are there."""
    tree = cached_tree(repo, access)
    if tree is None:
        return None
    snapshot = storage_folder(access, repo) / "snapshots" / tree[0]
    try:
        files = select(tree[1], patterns)
    except HubProblem:
        return None
    if not all((snapshot / path).is_file() for path in files):
        return None
    return snapshot, files


def keep_ref(storage: Path, revision: str, commit: str) -> None:
    """refs/<revision> -> commit, as huggingface_hub keeps it, so the cache answers offline."""
    if COMMIT.fullmatch(revision):
        return
    ref = storage / "refs" / revision
    if commit_of(storage, revision) == commit:
        return
    ref.parent.mkdir(parents=True, exist_ok=True)
    temp = ref.with_name(f".{ref.name}.{os.getpid()}.tmp")
    temp.write_text(commit)
    os.replace(temp, ref)


@contextmanager
def repo_lock(access: HubAccess, repo: HubRepo) -> Iterator[None]:
    """Held by one process of the machine at a time, per repository; waits for its turn."""
    folder = (
        cache_root(access) / ".locks" / repo_folder_name(repo_id=repo.repo_id, repo_type="model")
    )
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "fetch.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
