"""The repositories the local Hub (simulator/hub.py) serves: a folder on disk each, its files
described as the Hub describes them (size, git blob id, SHA-256 and pointer of LFS files)."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

LFS_SUFFIXES = {".onnx", ".bin", ".safetensors", ".pt", ".pth", ".npz", ".npy", ".gguf", ".h5"}
LFS_MIN_SIZE = 10 << 20
CHUNK = 1 << 20
MODIFIED = "2025-01-31T12:00:00.000Z"


@dataclass(frozen=True)
class MirrorFile:
    path: str
    size: int
    git_oid: str  # of the file, or of its LFS pointer
    sha256: str | None  # LFS files only
    pointer_size: int = 0


@functools.cache
def _describe(file: Path, path: str, size: int, mtime_ns: int) -> MirrorFile:
    data_hash, git = hashlib.sha256(), hashlib.sha1(f"blob {size}\0".encode())  # noqa: S324
    with file.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            data_hash.update(chunk)
            git.update(chunk)
    if Path(path).suffix not in LFS_SUFFIXES and size < LFS_MIN_SIZE:
        return MirrorFile(path, size, git.hexdigest(), None)
    sha256 = data_hash.hexdigest()
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n"
    oid = hashlib.sha1(f"blob {len(pointer)}\0{pointer}".encode()).hexdigest()  # noqa: S324
    return MirrorFile(path, size, oid, sha256, len(pointer))


@dataclass
class MirrorRepo:
    repo_id: str
    root: Path
    token: str | None = None  # gated: files need "Authorization: Bearer <token>"
    private: bool = False  # the API needs the token too
    downloads: int = 0
    likes: int = 0
    pipeline_tag: str = "text-to-speech"
    tags: tuple[str, ...] = ("onnx",)
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        self.sha = hashlib.sha1(self.repo_id.encode()).hexdigest()  # noqa: S324

    def files(self) -> dict[str, MirrorFile]:
        found = {}
        for file in sorted(p for p in self.root.rglob("*") if p.is_file()):
            path, stat = file.relative_to(self.root).as_posix(), file.stat()
            found[path] = _describe(file, path, stat.st_size, stat.st_mtime_ns)
        return found

    def info(self, blobs: bool) -> dict:
        siblings = []
        for file in self.files().values():
            sibling: dict = {"rfilename": file.path}
            if blobs:
                sibling.update(size=file.size, blobId=file.git_oid)
                if file.sha256:
                    lfs = {
                        "sha256": file.sha256,
                        "size": file.size,
                        "pointerSize": file.pointer_size,
                    }
                    sibling["lfs"] = lfs
            siblings.append(sibling)
        return {**self.summary(), "sha": self.sha, "siblings": siblings, "disabled": False}

    def summary(self) -> dict:
        return {
            "_id": self.sha[:24],
            "id": self.repo_id,
            "modelId": self.repo_id,
            "private": self.private,
            "gated": "manual" if self.token and not self.private else False,
            "downloads": self.downloads,
            "likes": self.likes,
            "lastModified": MODIFIED,
            "createdAt": MODIFIED,
            "pipeline_tag": self.pipeline_tag,
            "library_name": self.tags[0] if self.tags else None,
            "tags": list(self.tags),
        }


def tree_entries(repo: MirrorRepo, folder: str, recursive: bool) -> list[dict]:
    prefix = f"{folder}/" if folder else ""
    entries, folders = [], set()
    for file in repo.files().values():
        if not file.path.startswith(prefix):
            continue
        parts = file.path[len(prefix) :].split("/")
        for depth in range(1, len(parts) if recursive else min(2, len(parts))):
            folders.add(prefix + "/".join(parts[:depth]))
        if recursive or len(parts) == 1:
            entry: dict = {
                "type": "file",
                "oid": file.git_oid,
                "size": file.size,
                "path": file.path,
            }
            if file.sha256:
                entry["lfs"] = {
                    "oid": file.sha256,
                    "size": file.size,
                    "pointerSize": file.pointer_size,
                }
            entries.append(entry)
    oid = "0" * 40
    return [
        {"type": "directory", "oid": oid, "size": 0, "path": p} for p in sorted(folders)
    ] + entries
