"""Storage's settings: S3_* and CLOUDINARY_*, and StorageSettings, what a backend is built from.

config.Settings.storage puts them together (which backend, where local objects live); the
backends (utils/storage/) read the S3 and Cloudinary groups as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from settings.base import group_config
from settings.parsing import OptionalSecret, OptionalText, url_ok


class S3Settings(BaseSettings):
    """S3 or a compatible store (MinIO, R2, ...). Objects stay private; clients get presigned
    GET URLs."""

    model_config = group_config("S3_")

    bucket: OptionalText = None
    """The bucket's name; set, it chooses s3 storage where STORAGE_BACKEND is unset."""
    endpoint_url: str | None = None
    """The store's URL (http://minio:9000); unset: AWS."""
    public_endpoint_url: str | None = None
    """Where clients reach the store, when not at S3_ENDPOINT_URL (MinIO in compose: the
    services use http://minio:9000, browsers http://127.0.0.1:9000): presigned URLs are signed
    for it."""
    region: OptionalText = None
    """The store's region; unset: boto3's own (AWS_REGION, ~/.aws/config)."""
    access_key_id: OptionalSecret = None
    """With S3_SECRET_ACCESS_KEY, or neither: boto3's default chain (AWS_* variables, ~/.aws,
    an instance or task role)."""
    secret_access_key: OptionalSecret = None
    """The secret of S3_ACCESS_KEY_ID."""
    prefix: str = "tts"
    """Every object goes under it: the bucket may hold other things."""
    presign_ttl: int = Field(default=3600, ge=1, le=7 * 24 * 3600)
    """Seconds a presigned GET URL stays valid (at most 7 days, SigV4's limit)."""
    path_style: bool = False
    """The bucket in the URL's path, not its host name, as MinIO and most self-hosted stores
    want."""

    @field_validator("endpoint_url", "public_endpoint_url")
    @classmethod
    def _endpoint_shape(cls, value: str | None) -> str | None:
        if value and not url_ok(value, ("http", "https"), need_host=True):
            raise ValueError("must look like https://HOST[:PORT] (the S3-compatible store)")
        return value or None


class CloudinarySettings(BaseSettings):
    """Cloudinary storage: uploads with the official SDK, clients fetch its delivery URLs."""

    model_config = group_config("CLOUDINARY_")

    url: SecretStr | None = None
    """cloudinary://API_KEY:API_SECRET@CLOUD_NAME; set, it chooses cloudinary storage where
    STORAGE_BACKEND is unset."""
    folder: str = "tts"
    """The folder uploads go in."""
    upload_prefix: str | None = None
    """Another API host (a regional one, a simulator)."""
    delivery_prefix: str | None = None
    """Another delivery host (a CDN, a simulator)."""

    @field_validator("url")
    @classmethod
    def _url_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            url = value.get_secret_value()
            parts = urlsplit(url)
            if not (
                url_ok(url, ("cloudinary",), need_host=True) and parts.username and parts.password
            ):
                raise ValueError("must look like cloudinary://API_KEY:API_SECRET@CLOUD_NAME")
        return value


@dataclass(frozen=True)
class StorageSettings:
    """What storage needs to know, and nothing else (config.Settings.storage builds it)."""

    backend: str  # "local", "cloudinary" or "s3"
    root: Path  # local: where objects live
    scratch_dir: Path  # cloudinary: local copies of objects, purged with the temp files
    s3: S3Settings | None = None
    cloudinary: CloudinarySettings | None = None
