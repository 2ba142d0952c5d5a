"""Amazon S3, or any store that speaks its API (MinIO, Cloudflare R2, ...), through boto3.

Objects are private: nothing is uploaded with an ACL, so the bucket's own policy (private by
default) decides, and clients are handed presigned GET URLs that expire after S3_PRESIGN_TTL
(`url`). A presigned URL is computed here from the credentials, with no request, so handing
out a result's URLs costs nothing. Every key lives under S3_PREFIX, so the bucket may hold
other things and the purge never reaches them.

Nothing is kept on local disk: blocks are uploaded as they are made, final files with boto3's
managed transfer (multipart past MULTIPART_THRESHOLD), and objects are read back as streams
(utils/storage/s3_reader.py). That is what lets the API and each worker run on machines of
their own that share nothing but Redis and the bucket.
"""

from __future__ import annotations

import io
import time
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from settings.storage import StorageSettings
from utils.audio.formats import FAMILIES
from utils.errors import ConfigurationError, ObjectNotFound, StorageError
from utils.storage.base import Storage
from utils.storage.s3_reader import READ_BUFFER, ObjectReader

MULTIPART_THRESHOLD = 16 * 1024 * 1024  # past this a file goes up in parts, several at once
MULTIPART_CHUNK = 16 * 1024 * 1024
LIST_PAGE = 1000  # ListObjectsV2 answers at most this many keys per page
DELETE_BATCH = 1000  # DeleteObjects takes at most this many keys per call
RETRIES = {"mode": "standard", "max_attempts": 5}  # botocore's backoff on 5xx, throttling
MISSING = {"NoSuchKey", "404", "NotFound"}
# Stored with each object, so a presigned URL serves audio a browser plays from its type.
CONTENT_TYPES = {f.extension: f.content_type for f in FAMILIES.values()}


def content_type(key: str) -> str:
    return CONTENT_TYPES.get(key.rpartition(".")[2], "application/octet-stream")


def translate(exc: Exception, action: str, key: str) -> StorageError:
    """A StorageError saying what failed, from S3's error code alone: never the request, its
    headers or the credentials (S3's own messages can quote the access key id)."""
    if isinstance(exc, S3UploadFailedError) and isinstance(exc.__context__, ClientError):
        exc = exc.__context__  # the managed upload wraps S3's answer in a message of its own
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", "unknown"))
        if code in MISSING:
            return ObjectNotFound(f"{key} is not in storage")
        hint = {
            "NoSuchBucket": ": check S3_BUCKET",
            "AccessDenied": ": check the S3 credentials and the bucket's policy",
            "InvalidAccessKeyId": ": check S3_ACCESS_KEY_ID",
            "SignatureDoesNotMatch": ": check S3_SECRET_ACCESS_KEY",
        }.get(code, "")
        return StorageError(f"s3 {action} of {key} failed: {code}{hint}")
    # botocore's own errors (no connection, no credentials found) name no secret.
    return StorageError(f"s3 {action} of {key} failed ({type(exc).__name__}: {exc})")


class S3Storage(Storage):
    name = "s3"

    def __init__(self, settings: StorageSettings):
        if settings.s3 is None or not settings.s3.bucket:
            raise ConfigurationError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        self._bucket = settings.s3.bucket
        self._prefix = settings.s3.prefix.strip("/")
        self._ttl = settings.s3.presign_ttl
        credentials = {}
        if settings.s3.access_key_id and settings.s3.secret_access_key:
            credentials = {
                "aws_access_key_id": settings.s3.access_key_id.get_secret_value(),
                "aws_secret_access_key": settings.s3.secret_access_key.get_secret_value(),
            }
        # else: boto3's default chain (environment, shared files, an instance or task role)
        config = Config(
            signature_version="s3v4",  # presigned URLs in every region and on MinIO/R2
            s3={"addressing_style": "path" if settings.s3.path_style else "auto"},
            retries=dict(RETRIES),
            connect_timeout=10,
            read_timeout=60,
            max_pool_connections=64,  # the network pool's threads (64) share one client
        )
        # A session of its own: boto3's default session is not safe to share across threads.
        session = boto3.session.Session()

        def client(endpoint: str | None):
            return session.client(
                "s3",
                endpoint_url=endpoint or None,
                region_name=settings.s3.region or None,
                config=config,
                **credentials,
            )

        self._client = client(settings.s3.endpoint_url)
        # A presigned URL signs its host: where clients reach the store, if not where we do.
        public = settings.s3.public_endpoint_url
        self._signer = client(public) if public else self._client
        self._transfer = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_CHUNK
        )

    def _name(self, key: str) -> str:
        parts = PurePosixPath(key).parts
        if not parts or key.startswith("/") or ".." in parts or "\x00" in key:
            raise StorageError(f"key outside storage: {key!r}")
        return f"{self._prefix}/{key}" if self._prefix else key

    def put_bytes(self, key: str, data: bytes) -> None:
        try:
            self._client.put_object(
                Bucket=self._bucket, Key=self._name(key), Body=data, ContentType=content_type(key)
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "upload", key) from exc

    def put_file(self, key: str, path: Path) -> None:
        """Uploads the file (in parts when large), then removes it: the file is the caller's
        scratch copy, as LocalStorage would have moved it."""
        try:
            self._client.upload_file(
                str(path),
                self._bucket,
                self._name(key),
                ExtraArgs={"ContentType": content_type(key)},
                Config=self._transfer,
            )
        except (ClientError, BotoCoreError, S3UploadFailedError) as exc:
            raise translate(exc, "upload", key) from exc
        except OSError as exc:
            raise StorageError(f"could not read {key} to upload it") from exc
        finally:
            path.unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        try:
            first = self._client.get_object(Bucket=self._bucket, Key=self._name(key))
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "read", key) from exc

        def get(**options):
            return self._client.get_object(Bucket=self._bucket, Key=self._name(key), **options)

        return io.BufferedReader(ObjectReader(get, key, first, translate), READ_BUFFER)

    def copy(self, source_key: str, target_key: str) -> None:
        # Server-side: the bytes never pass through here (one request up to 5 GB; block audio
        # and cached audio, the only objects copied, are far smaller).
        try:
            self._client.copy_object(
                Bucket=self._bucket,
                Key=self._name(target_key),
                CopySource={"Bucket": self._bucket, "Key": self._name(source_key)},
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "copy", source_key) from exc

    def touch(self, key: str) -> None:
        """S3 keeps no time of last use, and LastModified changes only with a write: the object
        is copied onto itself (server-side), which is the only way to renew it."""
        try:
            self._client.copy_object(
                Bucket=self._bucket,
                Key=self._name(key),
                CopySource={"Bucket": self._bucket, "Key": self._name(key)},
                MetadataDirective="REPLACE",  # S3 refuses a self-copy that changes nothing
                ContentType=content_type(key),
                Metadata={"touched": str(int(time.time()))},
            )
        except (ClientError, BotoCoreError) as exc:
            error = translate(exc, "touch", key)
            if not isinstance(error, ObjectNotFound):  # purged meanwhile: the next read says so
                raise error from exc

    def url(self, key: str) -> str:
        """A presigned GET, valid S3_PRESIGN_TTL seconds; computed locally, no request."""
        try:
            return self._signer.generate_presigned_url(
                "get_object",
                Params={"Bucket": self._bucket, "Key": self._name(key)},
                ExpiresIn=self._ttl,
            )
        except BotoCoreError as exc:  # no credentials found: nothing to sign with
            raise translate(exc, "signing a URL", key) from exc

    def purge(self, prefix: str, older_than_s: float, now: float | None = None) -> int:
        """Delete objects under `prefix` whose LastModified is more than `older_than_s` ago,
        page by page (a listing page holds at most 1000 keys, DeleteObjects takes as many)."""
        cutoff = (now or time.time()) - older_than_s
        folder = self._name(prefix.strip("/")) + "/"
        removed = 0
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=folder, PaginationConfig={"PageSize": LIST_PAGE}
            )
            for page in pages:
                old = [
                    {"Key": item["Key"]}
                    for item in page.get("Contents", [])
                    if item["LastModified"].timestamp() < cutoff
                ]
                for start in range(0, len(old), DELETE_BATCH):
                    batch = old[start : start + DELETE_BATCH]
                    answer = self._client.delete_objects(
                        Bucket=self._bucket, Delete={"Objects": batch, "Quiet": True}
                    )
                    failed = answer.get("Errors", [])
                    if failed:
                        codes = sorted({e.get("Code", "unknown") for e in failed})
                        raise StorageError(
                            f"s3 purge of {prefix}: {len(failed)} objects not deleted "
                            f"({', '.join(codes)})"
                        )
                    removed += len(batch)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "purge", prefix) from exc
        return removed
