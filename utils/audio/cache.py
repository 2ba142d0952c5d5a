"""Content-hash cache of block audio: the same words, voice and settings are spoken once.

    tts:cache:{sha256}   hash: key (storage key of the cached audio in the job's format),
                         pcm_key (its source PCM, for formats other than MP3), n_samples,
                         n_frames, duration_ms, timings (the block's sentence and word
                         timings, utils/audio/timings.py; absent in entries made before they
                         were kept); expires AUDIO_CACHE_TTL after its last use

The hash covers everything that changes the audio: the provider's configuration that shapes
its output (its configured name, so two accounts or servers never share, its type, server,
model and upstream format: TTSProvider.audio_identity), voice, speed, the job's output format,
the text, the neighbouring text sent along for prosody where the provider takes it, and the
job's loudness target (a leveled block is other audio; its measured loudness is cached with it),
and where pronunciation lexicons applied, the text the provider was given and each lexicon's
owner, name and version (an edit of a lexicon never returns audio made before it).
A hit copies the cached objects to the block's own keys (hard links on local disk), so job
audio and cached audio are purged independently. Outside MP3 a block is two objects (its audio
and the PCM the combine and streams encode from; one object for pcm_* jobs): a hit restores
both or is a miss.
"""

from __future__ import annotations

import hashlib
import json

import redis

from utils.audio.loudness_target import LEVELED_FIELDS, LoudnessTarget
from utils.errors import StorageError
from utils.metrics import CACHE_LOOKUPS
from utils.names import cache_key
from utils.storage.base import Storage
from utils.storage.keys import PCM_EXTENSION, cached_audio_key

CACHE_FIELDS = ("n_samples", "n_frames", "duration_ms")


def content_digest(
    provider,
    spec,
    output_format: str,
    context: tuple[str | None, str | None] = (None, None),
    loudness: LoudnessTarget | None = None,
) -> str:
    """The cache identity of a block (a BlockSpec) spoken by `provider` (a TTSProvider), with
    the text before and after it that the provider is sent (utils/jobs/models.py
    prosody_context), brought to the job's loudness target if it has one."""
    identity = [
        *provider.audio_identity(),
        spec.voice,
        f"{spec.speed:.4f}",
        output_format,
        spec.text,
        spec.model or "",
        spec.instructions or "",
        f"{spec.volume_db:.2f}",
        *(text or "" for text in context),
        # the speaker of a multi-speaker voice, only when given: keys of audio cached before
        # speakers existed still match
        *([f"speaker={spec.speaker}"] if spec.speaker is not None else []),
    ]
    if loudness is not None:  # appended: digests of jobs without a target stay as they were
        identity.append(f"loudness {loudness.identity}")
    if spec.said is not None or spec.lexicons:  # what lexicons made of the text, and which
        identity += [f"said {spec.said}", f"lexicons {spec.lexicons or ''}"]
    return hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()


def build_audio_cache(client: redis.Redis, storage: Storage, ttl_s: int) -> AudioCache | None:
    """The cache, or None where its TTL (AUDIO_CACHE_TTL) is 0: turned off."""
    return AudioCache(client, storage, ttl_s) if ttl_s else None


class AudioCache:
    def __init__(self, client: redis.Redis, storage: Storage, ttl_s: int):
        self.redis = client
        self.storage = storage
        self.ttl_s = ttl_s

    def lookup(self, digests: list[str]) -> list[dict[str, str] | None]:
        """The cache entries for many blocks, in one round trip (one cheap one on a miss)."""
        if not self.redis.exists(*(cache_key(d) for d in digests)):
            return [None] * len(digests)  # new words, the usual case: no pipeline needed
        with self.redis.pipeline(transaction=False) as pipe:
            for digest in digests:
                pipe.hgetall(cache_key(digest))
            return [entry or None for entry in pipe.execute()]

    def restore(
        self,
        digest: str,
        block_key: str,
        entry: dict[str, str] | None = None,
        pcm_key: str | None = None,
    ) -> dict[str, str | int] | None:
        """Put cached audio at `block_key` (and its PCM at `pcm_key` where the job's format
        keeps one apart); the block's result fields, or None on a miss."""
        result = self._restore(digest, block_key, entry, pcm_key)
        CACHE_LOOKUPS.labels("miss" if result is None else "hit").inc()
        return result

    def _restore(
        self, digest: str, block_key: str, entry: dict[str, str] | None, pcm_key: str | None
    ) -> dict[str, str | int] | None:
        entry = entry or self.lookup([digest])[0]
        if not entry:
            return None
        pcm_apart = pcm_key is not None and pcm_key != block_key
        if pcm_apart and not entry.get("pcm_key"):
            return None  # cached without its PCM: make the block again
        try:
            self.storage.copy(entry["key"], block_key)
            if pcm_apart:
                self.storage.copy(entry["pcm_key"], pcm_key)
        except StorageError:
            self.redis.delete(cache_key(digest))  # its audio is gone: forget it
            return None
        # Used now: the entry and its audio are kept AUDIO_CACHE_TTL from here.
        self.redis.expire(cache_key(digest), self.ttl_s)
        self.storage.touch(entry["key"])
        if pcm_apart:
            self.storage.touch(entry["pcm_key"])
        return {
            **{name: int(entry[name]) for name in CACHE_FIELDS},
            **({"timings": entry["timings"]} if entry.get("timings") else {}),
            **{name: entry[name] for name in LEVELED_FIELDS if name in entry},
            "storage_key": block_key,
            "cached": 1,
        }

    def remember(
        self,
        digest: str,
        block_key: str,
        result: dict[str, str | int],
        pcm_key: str | None = None,
    ) -> None:
        key = cached_audio_key(digest, block_key.rsplit(".", 1)[-1])
        keys = {"key": key}
        try:
            self.storage.copy(block_key, key)
            if pcm_key is not None and pcm_key != block_key:
                keys["pcm_key"] = cached_audio_key(digest, PCM_EXTENSION)
                self.storage.copy(pcm_key, keys["pcm_key"])
        except StorageError:
            return  # caching is an optimization; the block itself is stored
        with self.redis.pipeline(transaction=True) as pipe:
            kept = [*CACHE_FIELDS, *(n for n in LEVELED_FIELDS if n in result)]
            fields = {n: result[n] for n in kept}
            if result.get("timings"):
                fields["timings"] = result["timings"]
            pipe.hset(cache_key(digest), mapping={**keys, **fields})
            pipe.expire(cache_key(digest), self.ttl_s)
            pipe.execute()
