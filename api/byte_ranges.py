"""Range requests answered from a seekable stored object that is not a file on this machine
(S3: utils/storage/s3_reader.py), so players can seek through the API as through a file.

One range per request, as players ask; a request for several ranges gets the whole object,
as RFC 9110 allows a server to answer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO

from fastapi.responses import Response, StreamingResponse

CHUNK = 64 * 1024


class Unsatisfiable(Exception):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """[start, end) of a single `bytes=` range; None to send everything (no header, another
    unit, several ranges, or one that does not parse); Unsatisfiable past the end."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, dash, last = header.removeprefix("bytes=").strip().partition("-")
    if not dash:
        return None
    try:
        if first:
            start = int(first)
            end = min(size, int(last) + 1) if last else size
        else:  # the last N bytes
            start, end = max(0, size - int(last)), size
    except ValueError:
        return None
    if start < 0 or end <= start or start >= size:
        raise Unsatisfiable
    return start, end


def _chunks(handle: BinaryIO, remaining: int | None) -> Iterator[bytes]:
    """The object from where the handle stands, `remaining` bytes of it (all if None); the
    handle is closed when the response ends, however it ends."""
    with handle:
        while remaining is None or remaining > 0:
            chunk = handle.read(CHUNK if remaining is None else min(CHUNK, remaining))
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def serve_handle(
    handle: BinaryIO, range_header: str | None, headers: dict[str, str], media_type: str
) -> Response:
    """200 with the whole object, 206 with the range asked for, or 416: the handle is closed
    by the response, or here when no body is sent."""
    size = handle.seek(0, os.SEEK_END)
    headers = {**headers, "Accept-Ranges": "bytes"}
    try:
        wanted = byte_range(range_header, size)
    except Unsatisfiable:
        handle.close()
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    if wanted is None:
        handle.seek(0)
        headers["Content-Length"] = str(size)
        return StreamingResponse(_chunks(handle, None), media_type=media_type, headers=headers)
    start, end = wanted
    handle.seek(start)
    headers["Content-Length"] = str(end - start)
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    return StreamingResponse(
        _chunks(handle, end - start), status_code=206, media_type=media_type, headers=headers
    )
