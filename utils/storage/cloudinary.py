"""Cloudinary storage through the official SDK.

Audio is uploaded as resource_type "video" (Cloudinary's type for audio) under the configured
folder, one public id per key, so the delivery URL of any key is computed, never stored. A
copy is kept under the scratch directory so the combine and the API's audio endpoints on this
machine read it without a round trip; once the temp purge has removed it, bytes are fetched
back from Cloudinary.
"""

from __future__ import annotations

import hashlib
import hmac
import tempfile
import time
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qs, urlparse

import cloudinary.api
import cloudinary.exceptions
import cloudinary.uploader
import cloudinary.utils
import httpx

from settings.storage import StorageSettings
from utils.clock import epoch_of
from utils.errors import ConfigurationError, ObjectNotFound, StorageError
from utils.storage.base import Storage
from utils.storage.local import LocalStorage

RESOURCE_TYPE = "video"  # Cloudinary files audio under video
DEFAULT_DELIVERY = "https://res.cloudinary.com"
LIST_PAGE = 500  # the Admin API's largest page
DELETE_BATCH = 100  # the Admin API deletes at most this many public ids per call
MAC_HEX_CHARS = 32  # 128 bits


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

    def __init__(self, settings: StorageSettings):
        if settings.cloudinary is None or not settings.cloudinary.url:
            raise ConfigurationError("STORAGE_BACKEND=cloudinary needs CLOUDINARY_URL")
        self._options = cloudinary_options(settings.cloudinary.url.get_secret_value())
        if settings.cloudinary.upload_prefix:
            self._options["upload_prefix"] = settings.cloudinary.upload_prefix
        self._delivery = (settings.cloudinary.delivery_prefix or "").rstrip("/")
        self._folder = settings.cloudinary.folder.strip("/")
        self._copies = LocalStorage(settings.scratch_dir / "cloudinary")

    def _public_id(self, key: str) -> str:
        """The key's path, ending in a MAC of the key under the account's secret: uploads are
        delivered to anyone holding their URL, so the URL must not be guessable from a job id
        or from the words spoken (cache keys are content hashes). Only the service can compute
        it, and it can from the key alone."""
        stem = key.rpartition(".")[0] or key  # the extension goes in the URL (url())
        secret = self._options["api_secret"].encode()
        mac = hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:MAC_HEX_CHARS]
        public_id = f"{stem}-{mac}"
        return f"{self._folder}/{public_id}" if self._folder else public_id

    def _prefix(self, prefix: str) -> str:
        """The public-id prefix of every key under `prefix` (a folder of keys)."""
        folder = prefix.strip("/")
        return f"{self._folder}/{folder}/" if self._folder else f"{folder}/"

    def url(self, key: str) -> str:
        url, _ = cloudinary.utils.cloudinary_url(
            self._public_id(key),
            resource_type=RESOURCE_TYPE,
            # Cloudinary delivers a video resource in the format its URL ends with (converting
            # it if it must): the key's own extension, so the bytes come back as stored.
            format=key.rpartition(".")[2] if "." in key else "mp3",
            secure=True,
            cloud_name=self._options["cloud_name"],
        )
        if self._delivery:
            url = self._delivery + url.removeprefix(DEFAULT_DELIVERY)
        return url

    def _upload(self, key: str, file: str) -> None:
        try:
            cloudinary.uploader.upload(
                file,
                resource_type=RESOURCE_TYPE,
                public_id=self._public_id(key),
                overwrite=True,
                **self._options,
            )
        except cloudinary.exceptions.Error as exc:
            # The SDK's message is Cloudinary's; it never carries our secret.
            raise StorageError(f"cloudinary upload of {key} failed: {exc}") from None

    def put_bytes(self, key: str, data: bytes) -> None:
        self._copies.put_bytes(key, data)
        self._upload(key, str(self._copies.local_path(key)))

    def put_file(self, key: str, path: Path) -> None:
        self._copies.put_file(key, path)
        self._upload(key, str(self._copies.local_path(key)))

    def local_path(self, key: str) -> Path | None:
        return self._copies.local_path(key)

    def copy(self, source_key: str, target_key: str) -> None:
        if self._copies.local_path(source_key) is not None:
            self._copies.copy(source_key, target_key)
            self._upload(target_key, str(self._copies.local_path(target_key)))
        else:
            # Cloudinary fetches a remote URL itself: the bytes never pass through here.
            self._upload(target_key, self.url(source_key))

    def open(self, key: str) -> BinaryIO:
        if self._copies.local_path(key) is None:
            self._fetch(key)
        return self._copies.open(key)

    def _fetch(self, key: str) -> None:
        target = self._copies.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        # A file of its own per download: readers fetching the same key at once never share one.
        fd, part = tempfile.mkstemp(dir=target.parent, prefix=".download-")
        try:
            with (
                open(fd, "wb") as out,
                httpx.stream("GET", self.url(key), timeout=60, follow_redirects=True) as response,
            ):
                if response.status_code == 404:
                    raise ObjectNotFound(f"{key} is not in storage")
                response.raise_for_status()
                for chunk in response.iter_bytes(256 * 1024):
                    out.write(chunk)
        except httpx.HTTPError as exc:
            Path(part).unlink(missing_ok=True)
            raise StorageError(
                f"could not fetch {key} from cloudinary ({type(exc).__name__})"
            ) from None
        except BaseException:
            Path(part).unlink(missing_ok=True)
            raise
        self._copies.put_file(key, Path(part))

    def purge(self, prefix: str, older_than_s: float, now: float | None = None) -> int:
        """Delete uploads under `prefix` created more than `older_than_s` ago (Cloudinary keeps
        no time of last use), and the local copies with them."""
        cutoff = (now or time.time()) - older_than_s
        old, cursor = [], None
        try:
            while True:
                page = cloudinary.api.resources(
                    resource_type=RESOURCE_TYPE,
                    type="upload",
                    prefix=self._prefix(prefix),
                    max_results=LIST_PAGE,
                    next_cursor=cursor,
                    **self._options,
                )
                old += [
                    r["public_id"]
                    for r in page.get("resources", [])
                    if epoch_of(r["created_at"]) < cutoff
                ]
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            for start in range(0, len(old), DELETE_BATCH):
                cloudinary.api.delete_resources(
                    old[start : start + DELETE_BATCH],
                    resource_type=RESOURCE_TYPE,
                    type="upload",
                    **self._options,
                )
        except cloudinary.exceptions.Error as exc:
            raise StorageError(f"cloudinary purge of {prefix} failed: {exc}") from None
        self._copies.purge(prefix, older_than_s, now)
        return len(old)
