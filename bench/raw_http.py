"""A lean HTTP/1.1 load generator: prebuilt request bytes over keep-alive sockets.

httpx costs about a millisecond of CPU per request, which on a 2-core machine shared with the
server under test would measure the client, not the server. This sends the same bytes again
and again and reads just enough of each response to find its end.
"""

from __future__ import annotations

import asyncio
import time


def build_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Connection: keep-alive",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


async def post_load(
    host: str, port: int, request: bytes, clients: int, seconds: float, rate: float | None = None
) -> tuple[list[float], dict[int, int]]:
    """Latencies (s) of every request completed within `seconds`, and counts by status.

    Without `rate`, each client sends again as soon as it has an answer (the most the server
    can take). With `rate` (requests per second, all clients together), each client sends on a
    fixed schedule and latency counts from the scheduled time, so a slow answer that delays the
    next request is not hidden (no coordinated omission).
    """
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    begin = time.monotonic()
    deadline = begin + seconds
    interval = clients / rate if rate else 0.0

    async def client(offset: float) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        scheduled = begin + offset
        try:
            while time.monotonic() < deadline:
                if interval:
                    await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
                started = scheduled if interval else time.monotonic()
                writer.write(request)
                status = await read_response(reader)
                latencies.append(time.monotonic() - started)
                statuses[status] = statuses.get(status, 0) + 1
                scheduled += interval
        finally:
            writer.close()

    await asyncio.gather(*(client(i * interval / clients) for i in range(clients)))
    return latencies, statuses
