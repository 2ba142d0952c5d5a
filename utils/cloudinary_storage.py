"""Cloudinary storage through the official SDK.

Audio is uploaded as resource_type "video" (Cloudinary's type for audio) under
CLOUDINARY_FOLDER; clients get the upload's secure URL. A copy is kept under TEMP_DIR so the
combine and the API's audio endpoints on this machine read it without a round trip; once the
purge has removed it, bytes are fetched back from Cloudinary.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qs, urlparse

import cloudinary.exceptions
import cloudinary.uploader
import httpx

from utils.errors import ConfigurationError, StorageError
from utils.storage import LocalStorage, Storage


def cloudinary_options(url: str) -> dict[str, str]:
    """SDK options from cloudinary://API_KEY:API_SECRET@CLOUD_NAME[?upload_prefix=...]."""
    parsed = urlparse(url)
    if parsed.scheme != "cloudinary" or not (
        parsed.username and parsed.password and parsed.hostname
    ):
        raise ConfigurationError("CLOUDINARY_URL must look like cloudinary://KEY:SECRET@CLOUD")
    options = {
        "api_key": parsed.username,
        "api_secret": parsed.password,
        "cloud_name": parsed.hostname,
    }
    options.update({k: v[0] for k, v in parse_qs(parsed.query).items()})
    return options


class CloudinaryStorage(Storage):
    name = "cloudinary"

    def __init__(self, settings):
        if not settings.CLOUDINARY_URL:
            raise ConfigurationError("STORAGE_BACKEND=cloudinary needs CLOUDINARY_URL")
        self._options = cloudinary_options(settings.CLOUDINARY_URL.get_secret_value())
        if settings.CLOUDINARY_UPLOAD_PREFIX:
            self._options["upload_prefix"] = settings.CLOUDINARY_UPLOAD_PREFIX
        self._folder = settings.CLOUDINARY_FOLDER.strip("/")
        self._copies = LocalStorage(settings.TEMP_DIR / "cloudinary")

    def _public_id(self, key: str) -> str:
        return (
            f"{self._folder}/{key.removesuffix('.mp3')}"
            if self._folder
            else key.removesuffix(".mp3")
        )

    def _upload(self, key: str, file) -> str:
        try:
            result = cloudinary.uploader.upload(
                file,
                resource_type="video",
                public_id=self._public_id(key),
                overwrite=True,
                **self._options,
            )
        except cloudinary.exceptions.Error as exc:
            # The SDK's message is Cloudinary's; it never carries our secret.
            raise StorageError(f"cloudinary upload of {key} failed: {exc}") from None
        return result["secure_url"]

    def put_bytes(self, key: str, data: bytes) -> str:
        self._copies.put_bytes(key, data)
        return self._upload(key, str(self._copies.local_path(key)))

    def put_file(self, key: str, path: Path) -> str:
        self._copies.put_file(key, path)
        return self._upload(key, str(self._copies.local_path(key)))

    def local_path(self, key: str) -> Path | None:
        return self._copies.local_path(key)

    def copy(self, source_key: str, target_key: str, source_url: str | None = None) -> str:
        """The uploaded object stays where it is: the target shares its URL (and local copy)."""
        if not source_url:
            raise StorageError(f"{source_key} has no URL")
        if self._copies.local_path(source_key) is not None:
            self._copies.copy(source_key, target_key)
        return source_url

    def open(self, key: str, url: str | None = None) -> BinaryIO:
        if self._copies.local_path(key) is None:
            if not url:
                raise StorageError(f"{key} has no local copy and no URL")
            self._fetch(key, url)
        return self._copies.open(key)

    def _fetch(self, key: str, url: str) -> None:
        try:
            with httpx.stream("GET", url, timeout=60, follow_redirects=True) as response:
                response.raise_for_status()
                target = self._copies.root / f"{key}.download"
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("wb") as out:
                    for chunk in response.iter_bytes(256 * 1024):
                        out.write(chunk)
        except httpx.HTTPError as exc:
            raise StorageError(
                f"could not fetch {key} from cloudinary ({type(exc).__name__})"
            ) from None
        self._copies.put_file(key, target)
