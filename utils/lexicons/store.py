"""A user's lexicons in Redis, and the operator's (LEXICON_FILES) read from disk.

Keys (docs/ARCHITECTURE.md, "Redis schema"): user_lexicons_key holds name -> JSON (language,
rules, version, size, updated_at); each save takes the next number of lexicon_versions_key as
the lexicon's version, so an edit (or a delete and a new lexicon of the same name) never has a
version seen before. The operator's lexicons are read once per file and again when the file
changes; their version is a digest of the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from utils.lexicons.pls import Lexicon, LexiconError, Rule, from_pls, rules_from_json
from utils.names import lexicon_versions_key, user_lexicons_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stored:
    """A lexicon as kept: `key` names it in the audio cache's key (owner/name@version)."""

    name: str
    language: str
    rules: tuple[Rule, ...]
    version: str
    size: int
    updated_at: float
    owner: str

    @property
    def key(self) -> str:
        return f"{self.owner}/{self.name}@{self.version}"

    def summary(self) -> dict:
        return {
            "name": self.name,
            "language": self.language,
            "version": self.version,
            "rule_count": len(self.rules),
            "bytes": self.size,
            "updated_at": self.updated_at,
        }


class LexiconStore:
    def __init__(self, client: redis.Redis, max_per_user: int):
        self.redis, self.max_per_user = client, max_per_user

    def save(self, owner: str, lexicon: Lexicon, size: int) -> Stored:
        """Keep (or replace) the lexicon; LexiconError past the count a user may keep."""
        key = user_lexicons_key(owner)
        if not self.redis.hexists(key, lexicon.name):
            count = self.redis.hlen(key)
            if count >= self.max_per_user:
                raise LexiconError(
                    "name",
                    f"you have {count} lexicons, the most allowed (LEXICON_MAX_PER_USER="
                    f"{self.max_per_user}): delete one, or replace one by saving under its name",
                )
        version = str(self.redis.incr(lexicon_versions_key(owner)))
        record = {
            "language": lexicon.language,
            "rules": [rule.as_json() for rule in lexicon.rules],
            "version": version,
            "size": size,
            "updated_at": round(time.time(), 3),
        }
        self.redis.hset(key, lexicon.name, json.dumps(record, ensure_ascii=False))
        return _stored(owner, lexicon.name, record, tuple(lexicon.rules))

    def get(self, owner: str, name: str) -> Stored | None:
        raw = self.redis.hget(user_lexicons_key(owner), name)
        return _read(owner, name, raw) if raw else None

    def get_many(self, owner: str, names: list[str]) -> dict[str, Stored]:
        if not names:
            return {}
        raws = self.redis.hmget(user_lexicons_key(owner), names)
        return {n: _read(owner, n, raw) for n, raw in zip(names, raws, strict=True) if raw}

    def names(self, owner: str) -> list[str]:
        return sorted(self.redis.hkeys(user_lexicons_key(owner)))

    def list(self, owner: str) -> list[Stored]:
        found = self.redis.hgetall(user_lexicons_key(owner))
        return [_read(owner, name, found[name]) for name in sorted(found)]

    def delete(self, owner: str, name: str) -> bool:
        return bool(self.redis.hdel(user_lexicons_key(owner), name))


def _stored(owner: str, name: str, record: dict, rules: tuple[Rule, ...]) -> Stored:
    return Stored(
        name,
        record["language"],
        rules,
        record["version"],
        int(record["size"]),
        float(record["updated_at"]),
        owner,
    )


_RULES: dict[tuple[str, str, str], tuple[Rule, ...]] = {}  # rules read once per version


def _read(owner: str, name: str, raw: str) -> Stored:
    record = json.loads(raw)
    cache_key = (owner, name, record["version"])
    rules = _RULES.get(cache_key)
    if rules is None:
        rules = tuple(rules_from_json(record["rules"]))
        if len(_RULES) > 256:
            _RULES.clear()
        _RULES[cache_key] = rules
    return _stored(owner, name, record, rules)


_OPERATOR: dict[Path, tuple[tuple[int, int], Stored | None]] = {}


def operator_lexicons(paths: list[Path]) -> list[Stored]:
    """The operator's lexicons (LEXICON_FILES), in order; a file that cannot be read or is not
    a PLS document is logged and left out."""
    out = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError as exc:
            log.error("LEXICON_FILES: %s cannot be read (%s)", path, exc.strerror)
            continue
        stamp = (stat.st_mtime_ns, stat.st_size)
        known = _OPERATOR.get(path)
        if known is None or known[0] != stamp:
            known = (stamp, _read_file(path))
            _OPERATOR[path] = known
        if known[1] is not None:
            out.append(known[1])
    return out


def _read_file(path: Path) -> Stored | None:
    try:
        data = path.read_bytes()
        lexicon = from_pls(path.stem, data)
    except (OSError, LexiconError) as exc:
        log.error("LEXICON_FILES: %s is not a usable PLS lexicon (%s)", path, exc)
        return None
    version = hashlib.sha256(data).hexdigest()[:12]
    return Stored(
        lexicon.name,
        lexicon.language,
        tuple(lexicon.rules),
        version,
        len(data),
        path.stat().st_mtime,
        "operator",
    )
