"""Which storage a process writes to, said without secrets, so that processes that must share
it can tell when they do not (a worker on `local` storage while the API is on S3; `local`
folders on two machines).

    local        the folder's own id: a random id written once into the folder
                 (`.storage-id`), so processes sharing the folder (one machine, or a volume
                 mounted in several containers) read the same id, and another machine's
                 folder of the same path has another; described with the path and the host
    s3           endpoint (or AWS), bucket and prefix
    cloudinary   cloud name and folder (the URL's key and secret are never read here)

Two processes share storage when their `key`s are equal; `text` is for people (logs, /ready,
a job's error).
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from settings.storage import StorageSettings

ID_FILE = ".storage-id"


@dataclass(frozen=True)
class StorageIdentity:
    key: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "text": self.text}

    @classmethod
    def from_dict(cls, value: dict | None) -> StorageIdentity | None:
        if not isinstance(value, dict) or "key" not in value:
            return None
        return cls(str(value["key"]), str(value.get("text", value["key"])))


def storage_identity(settings: StorageSettings) -> StorageIdentity:
    if settings.backend == "s3" and settings.s3 is not None:
        s3 = settings.s3
        where = f"{s3.endpoint_url or 'AWS'} bucket {s3.bucket} prefix {s3.prefix}"
        return StorageIdentity(
            f"s3:{s3.endpoint_url or 'aws'}/{s3.bucket}/{s3.prefix}", f"s3 {where}"
        )
    if settings.backend == "cloudinary" and settings.cloudinary is not None:
        url = settings.cloudinary.url.get_secret_value() if settings.cloudinary.url else ""
        cloud = urlsplit(url).hostname or "?"  # the cloud name only: never the key or secret
        folder = settings.cloudinary.folder
        return StorageIdentity(
            f"cloudinary:{cloud}/{folder}", f"cloudinary {cloud} folder {folder}"
        )
    folder_id = local_folder_id(settings.root)
    return StorageIdentity(
        f"local:{folder_id}",
        f"local {settings.root} on {socket.gethostname()} (folder id {folder_id[:8]})",
    )


def local_folder_id(root) -> str:
    """The folder's id, written by the first process to look (O_EXCL: one writer wins)."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / ID_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        for _ in range(50):  # the winner may not have written it yet
            text = path.read_text().strip()
            if text:
                return text
            os.sched_yield()
        raise RuntimeError(f"{path} is empty") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(uuid.uuid4().hex)
    return path.read_text().strip()
