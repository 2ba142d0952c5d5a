"""A job's cover image: stored beside its audio at submit (so it lives and is purged with the
job's folder), read back by the combine and by MP3 streams to embed in their tags. The job's
hash says only which type it is (JobOptions.cover), so the key is found without a listing."""

from __future__ import annotations

from utils.audio.cover_art import EXTENSIONS, Cover
from utils.storage.base import Storage
from utils.storage.keys import cover_key


def store_cover(storage: Storage, job_id: str, cover: Cover) -> None:
    storage.put_bytes(cover_key(job_id, cover.extension), cover.data)


def load_cover(storage: Storage, job_id: str, mime: str | None) -> Cover | None:
    """The job's cover, where it has one (`mime`: JobOptions.cover)."""
    if mime not in EXTENSIONS:
        return None
    with storage.open(cover_key(job_id, EXTENSIONS[mime])) as handle:
        return Cover(handle.read(), mime)
