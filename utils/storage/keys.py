"""The storage keys of the service's audio: relative paths, never built from raw client input.

Each folder is one kind of object with one lifetime, so the purge works by prefix and age.
"""

from __future__ import annotations

JOBS_FOLDER = "jobs"  # one folder per job; its audio lives as long as the job (JOB_TTL)
CACHE_FOLDER = "cache"  # reused block audio, kept AUDIO_CACHE_TTL after its last use


def block_audio_key(job_id: str, index: int) -> str:
    return f"{JOBS_FOLDER}/{job_id}/block_{index:04d}.mp3"


def final_audio_key(job_id: str) -> str:
    return f"{JOBS_FOLDER}/{job_id}/final.mp3"


def cached_audio_key(digest: str) -> str:
    return f"{CACHE_FOLDER}/{digest[:2]}/{digest}.mp3"
