"""A local Hugging Face Hub, for tests and benchmarks: repositories served from folders on disk
the way huggingface_hub expects of the real Hub (HF_ENDPOINT pointed here).

    GET  /api/models                                   search (pipeline_tag, filter, search, limit)
    GET  /api/models/{repo}[/revision/{rev}][?blobs=1] the repository: sha, siblings (with blobs:
                                                       size, blobId, lfs {sha256, size})
    GET  /api/models/{repo}/tree/{rev}[/{path}]        the tree (recursive=true: all of it)
    HEAD /{repo}/resolve/{rev}/{path}                  X-Repo-Commit, ETag, Content-Length, and for
    GET  /{repo}/resolve/{rev}/{path}                  an LFS file X-Linked-Etag (its SHA-256) and
                                                       X-Linked-Size; Range honoured

Each repository has a made-up commit (40 hex digits) that "main" resolves to. Files ending in
.onnx, .bin, .safetensors and the like (or of 10 MiB and more) are LFS files, as the Hub's
default .gitattributes makes them. No X-Xet-* header is ever sent: huggingface_hub downloads
over plain HTTP.

Knobs: requests are counted, and the GETs of each file body; a file can be served corrupted
(same length, one byte flipped, the true SHA-256 still advertised); a repository can be gated
(its files answer 401 without its bearer token, 403 with another) or private (the API too);
every answer can be delayed.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from simulator.hub_repo import MirrorRepo, tree_entries
from utils.embedded_redis import free_port

CHUNK = 1 << 20


class HubMirror:
    """The mirror on a free local port, served by uvicorn in a background thread."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.repos: dict[str, MirrorRepo] = {}
        self.bodies: collections.Counter[tuple[str, str]] = collections.Counter()
        self.corrupt: set[tuple[str, str]] = set()
        self.delay_s = 0.0
        self.requests = 0  # answered, of any kind
        self._lock = threading.Lock()
        routes = [
            Route("/api/models", self._search),
            Route("/api/models/{rest:path}", self._api),
            Route("/{rest:path}", self._resolve, methods=["GET", "HEAD"]),
        ]
        config = uvicorn.Config(
            Starlette(routes=routes), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def add(self, repo_id: str, root: Path, **options) -> MirrorRepo:
        """Serve the folder `root` as `repo_id` (options: see MirrorRepo)."""
        repo = MirrorRepo(repo_id, Path(root), **options)
        repo.files()  # hashed now, not in the first request
        self.repos[repo_id] = repo
        return repo

    def downloads(self, repo_id: str, path: str) -> int:
        """GETs of the file's body so far."""
        with self._lock:
            return self.bodies[(repo_id, path)]

    def reset(self) -> None:
        with self._lock:
            self.bodies.clear()
            self.requests = 0
        self.corrupt.clear()
        self.delay_s = 0.0

    def start(self) -> HubMirror:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the Hub mirror did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.delay_s = 0.0
        self._server.should_exit = True
        self._thread.join(10)

    def __enter__(self) -> HubMirror:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the Hub's endpoints ---------------------------------------------------------------

    async def _search(self, request: Request) -> Response:
        await self._wait()
        params = request.query_params
        wanted = set(params.getlist("filter"))
        query = (params.get("search") or "").lower()
        found = [
            repo
            for repo in self.repos.values()
            if not repo.private
            and params.get("pipeline_tag") in (None, repo.pipeline_tag)
            and wanted <= set(repo.tags)
            and query in repo.repo_id.lower()
        ]
        found.sort(key=lambda repo: -repo.downloads)
        limit = int(params.get("limit") or 1000)
        return JSONResponse([repo.summary() for repo in found[:limit]])

    async def _api(self, request: Request) -> Response:
        await self._wait()
        repo, rest = self._repo(request.path_params["rest"])
        if repo is None:
            return _error(404, "RepoNotFound", "Repository not found")
        if repo.private and not self._authorized(repo, request):
            return _error(401, "RepoNotFound", "Repository not found")
        kind, _, rest = rest.partition("/")
        revision, _, path = rest.partition("/")
        if kind in ("", "revision"):
            if kind and not self._revision_ok(repo, revision):
                return _error(404, "RevisionNotFound", "Invalid rev id")
            blobs = request.query_params.get("blobs", "").lower() in ("1", "true")
            return JSONResponse(repo.info(blobs))
        if kind == "tree":
            if not self._revision_ok(repo, revision):
                return _error(404, "RevisionNotFound", "Invalid rev id")
            recursive = request.query_params.get("recursive", "").lower() in ("1", "true")
            return JSONResponse(tree_entries(repo, path.strip("/"), recursive))
        return _error(404, None, "Not found")

    async def _resolve(self, request: Request) -> Response:
        await self._wait()
        repo, rest = self._repo(request.path_params["rest"])
        if repo is None:
            return _error(404, "RepoNotFound", "Repository not found")
        kind, _, rest = rest.partition("/")
        revision, _, path = rest.partition("/")
        if kind != "resolve":
            return _error(404, None, "Not found")
        if not self._revision_ok(repo, revision):
            return _error(404, "RevisionNotFound", "Invalid rev id")
        if repo.token and not self._authorized(repo, request):
            status = 403 if request.headers.get("authorization") else 401
            message = f"Access to model {repo.repo_id} is restricted."
            return _error(status, "GatedRepo", message, repo.sha)
        file = repo.files().get(path)
        if file is None:
            return _error(404, "EntryNotFound", "Entry not found", repo.sha)
        etag = file.sha256 or file.git_oid
        headers = {
            "X-Repo-Commit": repo.sha,
            "ETag": f'"{etag}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        if file.sha256:
            headers.update({"X-Linked-Etag": f'"{file.sha256}"', "X-Linked-Size": str(file.size)})
        if request.method == "HEAD":
            return Response(b"", headers={**headers, "Content-Length": str(file.size)})
        start, end, status = _range(request.headers.get("range"), file.size)
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{file.size}"
        headers["Content-Length"] = str(end - start)
        with self._lock:
            self.bodies[(repo.repo_id, path)] += 1
        corrupt = (repo.repo_id, path) in self.corrupt
        body = _read(repo.root / path, start, end, file.size // 2 if corrupt else None)
        return StreamingResponse(body, status_code=status, headers=headers)

    # -- helpers ---------------------------------------------------------------------------

    async def _wait(self) -> None:
        with self._lock:
            self.requests += 1
        deadline = time.monotonic() + self.delay_s
        while self.delay_s and time.monotonic() < deadline:  # reset() cuts a delay short
            await asyncio.sleep(0.02)

    def _repo(self, rest: str) -> tuple[MirrorRepo | None, str]:
        for repo_id, repo in self.repos.items():
            if rest == repo_id or rest.startswith(f"{repo_id}/"):
                return repo, rest[len(repo_id) :].lstrip("/")
        return None, ""

    @staticmethod
    def _revision_ok(repo: MirrorRepo, revision: str) -> bool:
        return revision in ("main", repo.sha)

    @staticmethod
    def _authorized(repo: MirrorRepo, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {repo.token}"


def _error(status: int, code: str | None, message: str, commit: str | None = None) -> Response:
    headers = {"X-Error-Message": message}
    if code:
        headers["X-Error-Code"] = code
    if commit:
        headers["X-Repo-Commit"] = commit
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _range(header: str | None, size: int) -> tuple[int, int, int]:
    """(start, end exclusive, status) of a "bytes=a-b" Range (or the whole file)."""
    if not header or not header.startswith("bytes="):
        return 0, size, 200
    first, _, last = header[6:].split(",")[0].partition("-")
    start = int(first) if first else max(size - int(last), 0)
    end = int(last) + 1 if first and last else size
    return start, min(end, size), 206


def _read(file: Path, start: int, end: int, flip_at: int | None) -> Iterator[bytes]:
    with file.open("rb") as handle:
        handle.seek(start)
        position = start
        while position < end:
            chunk = handle.read(min(CHUNK, end - position))
            if not chunk:
                return
            if flip_at is not None and position <= flip_at < position + len(chunk):
                data = bytearray(chunk)
                data[flip_at - position] ^= 0xFF
                chunk = bytes(data)
            position += len(chunk)
            yield chunk
