"""The storage keys of the service's audio: relative paths, never built from raw client input.

Each folder is one kind of object with one lifetime, so the purge works by prefix and age.
A key ends in its format's file extension (utils/audio/formats.py), so a file fetched from
storage, or a backend's URL, says what it holds.
"""

from __future__ import annotations

JOBS_FOLDER = "jobs"  # one folder per job; its audio lives as long as the job (JOB_TTL)
CACHE_FOLDER = "cache"  # reused block audio, kept AUDIO_CACHE_TTL after its last use
PREVIEWS_FOLDER = "previews"  # a voice's sample sentence: made once, purged by no age
PCM_EXTENSION = "pcm"  # a block's source audio: raw mono s16le at the job's rate


def job_folder(job_id: str) -> str:
    """The prefix every object of the job is under."""
    return f"{JOBS_FOLDER}/{job_id}"


def block_audio_key(job_id: str, index: int, extension: str = "mp3") -> str:
    return f"{JOBS_FOLDER}/{job_id}/block_{index:04d}.{extension}"


def block_pcm_key(job_id: str, index: int) -> str:
    """A block's source PCM, kept for every format but MP3 (whose combine copies frames): the
    combine and streams encode from it. For pcm_* jobs it is the block's audio itself."""
    return block_audio_key(job_id, index, PCM_EXTENSION)


def final_audio_key(job_id: str, extension: str = "mp3") -> str:
    return f"{JOBS_FOLDER}/{job_id}/final.{extension}"


def cover_key(job_id: str, extension: str) -> str:
    """A job's cover image (png or jpg), embedded in its final file by the combine."""
    return f"{JOBS_FOLDER}/{job_id}/cover.{extension}"


def cached_audio_key(digest: str, extension: str = "mp3") -> str:
    return f"{CACHE_FOLDER}/{digest[:2]}/{digest}.{extension}"


def voice_preview_key(digest: str) -> str:
    """A voice's preview (utils/projects/previews.py): the digest of provider and voice."""
    return f"{PREVIEWS_FOLDER}/{digest[:2]}/{digest}.mp3"


def block_keys(job_id: str, index: int, fmt) -> tuple[str, str | None]:
    """A block's audio key in its job's format (an OutputFormat), and its source PCM's key
    (None for MP3, the same key for pcm_*)."""
    audio = block_audio_key(job_id, index, fmt.extension)
    return audio, None if fmt.is_mp3 else block_pcm_key(job_id, index)
