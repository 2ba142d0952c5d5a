"""An S3 object read as a seekable file, fetched as it is read.

`open` must hand back something the combine can copy from and the API can measure
(`seek(0, SEEK_END)`) and stream, without holding the object in memory or on disk. One GET's
body is read as far as it goes; a seek elsewhere closes it and the next read starts a ranged
GET from the new position, pinned to the first response's ETag so the bytes never mix two
versions of an object replaced meanwhile.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from utils.errors import StorageError

READ_BUFFER = 256 * 1024


class ObjectReader(io.RawIOBase):
    """Raw reads of one object; wrap it in io.BufferedReader (S3Storage.open does)."""

    def __init__(
        self,
        get: Callable[..., dict[str, Any]],
        key: str,
        first: dict[str, Any],
        translate: Callable[[Exception, str, str], StorageError],
    ):
        self._get = get  # get_object bound to the bucket and the object's full name
        self._key = key
        self._translate = translate
        self._size = int(first["ContentLength"])
        self._etag = first.get("ETag")
        self._body = first["Body"]
        self._body_pos = 0  # where the open body will read next
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset  # nothing fetched until the next read
        return self._pos

    def readinto(self, buffer) -> int:
        if self._pos >= self._size or len(buffer) == 0:
            return 0
        if self._body is None or self._body_pos != self._pos:
            self._reopen()
        try:
            data = self._body.read(min(len(buffer), self._size - self._pos))
        except (BotoCoreError, OSError) as exc:
            self._drop_body()
            what = type(exc).__name__
            raise StorageError(f"reading {self._key} from s3 failed ({what})") from exc
        if not data:
            self._drop_body()
            raise StorageError(f"{self._key} ended early in s3 (the object changed while read)")
        n = len(data)
        buffer[:n] = data
        self._pos += n
        self._body_pos += n
        return n

    def _reopen(self) -> None:
        self._drop_body()
        options = {"Range": f"bytes={self._pos}-"}
        if self._etag:
            options["IfMatch"] = self._etag
        try:
            response = self._get(**options)
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(exc, "read", self._key) from exc
        self._body, self._body_pos = response["Body"], self._pos

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        if not self.closed:
            self._drop_body()
        super().close()
