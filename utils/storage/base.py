"""What every storage backend does, and the small settings backends are built from.

A backend is addressed by key alone (utils/storage/keys.py): it stores, reads back, copies,
says where a client can fetch an object directly (if anywhere), and purges its own objects by
prefix and age. Callers never carry a backend's URLs or paths around.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pydantic import SecretStr


@dataclass(frozen=True)
class StorageSettings:
    """What storage needs to know, and nothing else (config.Settings.storage builds it)."""

    backend: str  # "local", "cloudinary" or "s3"
    root: Path  # local: where objects live
    scratch_dir: Path  # cloudinary: local copies of objects, purged with the temp files
    cloudinary_url: SecretStr | None = None  # cloudinary://API_KEY:API_SECRET@CLOUD_NAME
    cloudinary_folder: str = "tts"
    cloudinary_upload_prefix: str | None = None  # another API host (a regional one, a simulator)
    cloudinary_delivery_prefix: str | None = None  # another delivery host (a CDN, a simulator)
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # MinIO, R2, any S3-compatible store; unset: AWS
    s3_public_endpoint_url: str | None = None  # where clients reach it, if not at the above
    s3_region: str | None = None  # unset: boto3's own (AWS_REGION, ~/.aws/config)
    s3_access_key_id: SecretStr | None = None  # both unset: boto3's default credential chain
    s3_secret_access_key: SecretStr | None = None
    s3_prefix: str = "tts"  # every key under it
    s3_presign_ttl: int = 3600  # seconds a presigned GET URL stays valid
    s3_path_style: bool = False  # bucket in the URL's path (MinIO), not in its host name


class Storage(ABC):
    name: str

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing what was there."""

    @abstractmethod
    def put_file(self, key: str, path: Path) -> None:
        """Store a finished file under `key` (the file may be moved)."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Read an object back; ObjectNotFound if it is not there."""

    @abstractmethod
    def copy(self, source_key: str, target_key: str) -> None:
        """Make `target_key` hold what `source_key` holds; StorageError if the source is gone."""

    @abstractmethod
    def purge(self, prefix: str, older_than_s: float, now: float | None = None) -> int:
        """Delete the objects under `prefix` last written (or used) more than `older_than_s`
        ago; how many."""

    def url(self, key: str) -> str | None:
        """Where a client can fetch the object directly, if the backend serves it itself."""
        return None

    def local_path(self, key: str) -> Path | None:
        """A path on this machine holding the object, when there is one (served with Range)."""
        return None

    def touch(self, key: str) -> None:  # noqa: B027 - a backend that cannot, need not
        """Note a use of the object, so an age-based purge keeps it."""
