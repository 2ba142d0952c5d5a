"""A job's progress as server-sent events (GET /jobs/{job_id}/events).

Each event is `event: status` whose data is the job's status, the same JSON as GET
/status/{job_id}: once at the start, then after every change, and the stream ends after the
event that shows the job completed, failed or cancelled (or once the job is gone: expired).

Like the audio streams (api/streaming.py), it waits on the job's pub/sub channel
(utils/names.py job_events_channel, heard through api/job_changes.py), not by polling: it
listens first, then reads, so no change can slip between the two. A burst of changes (every
block of a cached job finishing at once) is read once: after a notification the stream waits
out the rest of COALESCE_S since its last event, forgets what came meanwhile and reads the job
once. A comment line goes out every
KEEPALIVE_S of silence, so proxies and clients do not take a quiet job for a dead connection;
the job is read again then too, in case a notification was lost in a reconnect.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import redis.asyncio as aioredis

from api.job_changes import job_changes
from api.streaming import StreamHold
from utils.names import job_events_channel

COALESCE_S = 0.1  # at most one event per this long: a burst of changes is one event
KEEPALIVE_S = 15.0  # a comment line after this long without an event
FINISHED = ("completed", "failed", "cancelled")

# Reads the job's status as GET /status shows it (a dict), or None once the job is gone.
StatusReader = Callable[[], Awaitable[dict | None]]


def sse_event(name: str, data: dict) -> bytes:
    """One event in the text/event-stream format: JSON has no raw newlines, so one data line."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


KEEPALIVE = b": keep-alive\n\n"


async def status_events(
    client: aioredis.Redis,
    job_id: str,
    read_status: StatusReader,
    hold: StreamHold | None = None,
    coalesce_s: float = COALESCE_S,
    keepalive_s: float = KEEPALIVE_S,
) -> AsyncIterator[bytes]:
    """The job's status events, as bytes ready to send. Releases the stream's hold when
    closed, however the stream ends (a client that leaves cancels it)."""
    try:
        async with job_changes(client).listen(job_events_channel(job_id)) as changes:
            last_sent, last_at = None, 0.0
            while True:
                status = await read_status()
                if status is None:
                    return  # expired meanwhile: nothing more will happen
                if status != last_sent:
                    yield sse_event("status", status)
                    last_sent, last_at = status, time.monotonic()
                if status["status"] in FINISHED:
                    return
                if not await changes.changed(keepalive_s):
                    yield KEEPALIVE
                    if hold:
                        await hold.renew(client)
                    continue  # read again: cheap once every KEEPALIVE_S, heals a lost message
                await asyncio.sleep(max(0.0, last_at + coalesce_s - time.monotonic()))
                changes.forget()  # the burst's other notifications: the read below covers them
    finally:
        if hold:
            await asyncio.shield(hold.release(client))
