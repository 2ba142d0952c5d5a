"""A user's projects in Redis, without expiry: a project is a document its owner keeps.

    tts:user:{name}:projects          id -> JSON: the project and its `version`
    tts:user:{name}:projects:renders  id -> JSON: its last render {job_id, version}

Redis rather than the storage backend: a save is a compare-and-set on the version (WATCH on
the user's hash, then MULTI), which object stores cannot do atomically, and projects are small
(at most MAX_BLOCKS blocks of MAX_BLOCK_CHARS). Keyed under the owner's name, another user's
project is simply not there: a 404, never a 403 that would say it exists.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import redis

from utils.errors import LimitReached, NotFound
from utils.names import user_project_renders_key, user_projects_key

FIRST_WORDS = 12  # what a listing shows of a project's text


class VersionConflict(Exception):
    """A save made from a version that is no longer the current one."""

    def __init__(self, current: dict):
        self.current = current
        super().__init__(
            f"the project was saved elsewhere meanwhile: it is at version {current['version']}"
        )


class ProjectStore:
    def __init__(self, client: redis.Redis, max_per_user: int):
        self.redis, self.max_per_user = client, max_per_user

    def create(self, owner: str, content: dict) -> dict:
        key = user_projects_key(owner)
        count = self.redis.hlen(key)
        if count >= self.max_per_user:
            raise LimitReached(
                f"you have {count} projects, the most allowed (PROJECT_MAX_PER_USER="
                f"{self.max_per_user}): delete one first"
            )
        now = round(time.time(), 3)
        project = {**content, "id": str(uuid.uuid4()), "version": 1}
        project.update(created_at=now, updated_at=now)
        self.redis.hset(key, project["id"], _dump(project))
        return project

    def get(self, owner: str, project_id: str) -> dict:
        raw = self.redis.hget(user_projects_key(owner), project_id)
        if raw is None:
            raise NotFound(f"no project {project_id}")
        return json.loads(raw)

    def list(self, owner: str) -> list[dict]:
        found = [json.loads(raw) for raw in self.redis.hvals(user_projects_key(owner))]
        return sorted(found, key=lambda p: p["updated_at"], reverse=True)

    def update(self, owner: str, project_id: str, content: dict, version: int) -> dict:
        """Replace the project's content if it is still at `version`: the saved project, at
        the next version; VersionConflict (with the current project) otherwise."""
        key = user_projects_key(owner)
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.hget(key, project_id)
                    if raw is None:
                        raise NotFound(f"no project {project_id}")
                    current = json.loads(raw)
                    if current["version"] != version:
                        raise VersionConflict(current)
                    project = {**content, "id": project_id, "version": version + 1}
                    project["created_at"] = current["created_at"]
                    project["updated_at"] = round(time.time(), 3)
                    pipe.multi()
                    pipe.hset(key, project_id, _dump(project))
                    pipe.execute()
                    return project
                except redis.WatchError:
                    continue  # another of the user's projects changed: read again

    def delete(self, owner: str, project_id: str) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(user_projects_key(owner), project_id)
            pipe.hdel(user_project_renders_key(owner), project_id)
            deleted, _ = pipe.execute()
        if not deleted:
            raise NotFound(f"no project {project_id}")

    def note_render(self, owner: str, project_id: str, job_id: str, version: int) -> None:
        record = {"job_id": job_id, "version": version, "at": round(time.time(), 3)}
        self.redis.hset(user_project_renders_key(owner), project_id, json.dumps(record))

    def last_render(self, owner: str, project_id: str) -> dict | None:
        raw = self.redis.hget(user_project_renders_key(owner), project_id)
        return json.loads(raw) if raw else None


def first_words(project: dict, n: int = FIRST_WORDS) -> str:
    """The first words of the project's text, for a listing."""
    words: list[str] = []
    for block in project.get("blocks", []):
        words += re.sub(r"<[^>]+>", " ", block.get("text", "")).split()  # SSML: its words
        if len(words) > n:
            return " ".join(words[:n]) + " …"
    return " ".join(words)


def _dump(project: dict) -> str:
    return json.dumps(project, ensure_ascii=False, separators=(",", ":"))
