"""News of jobs, heard once per API process: one pub/sub connection for every open stream.

Every stream of a running job (audio with ?stream=true, job events, /v1/audio/speech, the
streaming WebSocket, Wyoming) waits for its job's channel (utils/names.py job_events_channel)
to speak, then reads what changed. With a subscription of its own, each held a Redis connection
for as long as it was open, and the async client's pool ran out: 100 simultaneous speech
requests were answered 503 but for a few (`make bench`, speech under load). Here one
connection per client subscribes to the channels that have listeners, and wakes them.

A listener is woken, not told what happened: it reads the job again, as before. News said while
the connection is re-made (redis-py subscribes again on its own) is covered by the listeners'
own rechecks (they read again after a few seconds of silence); where the client gives up, the
hub subscribes again itself and wakes every listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

RECONNECT_S = 0.5  # between attempts to subscribe again after the connection was lost
READ_TIMEOUT_S = 1.0  # the reader's wait for a message, so it notices a closed hub


class Listener:
    """One stream's interest in one job."""

    def __init__(self):
        self._news = asyncio.Event()

    def wake(self) -> None:
        self._news.set()

    async def changed(self, timeout_s: float) -> bool:
        """True once the job's channel spoke (since the last call), False after `timeout_s`."""
        try:
            await asyncio.wait_for(self._news.wait(), timeout_s)
        except TimeoutError:
            return False
        self._news.clear()
        return True

    def forget(self) -> None:
        """News so far is known: the next `changed` waits for more."""
        self._news.clear()


class JobChanges:
    """The channels this process listens to, on one pub/sub connection."""

    def __init__(self, client: aioredis.Redis):
        self._client = client
        self._listeners: dict[str, set[Listener]] = {}
        self._pubsub = client.pubsub()
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task | None = None
        self._wanted = asyncio.Event()  # set as a listener comes: the idle reader reads at once

    @contextlib.asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[Listener]:
        """Woken whenever `channel` speaks, from the moment this returns until the block ends.
        Raises RedisError where the subscription cannot be made (the caller answers 503)."""
        listener = Listener()
        async with self._lock:
            group = self._listeners.setdefault(channel, set())
            group.add(listener)
            try:
                if len(group) == 1:
                    await self._pubsub.subscribe(channel)
            except BaseException:
                self._leave(channel, listener)
                raise
            self._wanted.set()
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(), name="job-changes")
        try:
            yield listener
        finally:
            await asyncio.shield(self._unlisten(channel, listener))

    async def _unlisten(self, channel: str, listener: Listener) -> None:
        async with self._lock:
            if self._leave(channel, listener):
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.unsubscribe(channel)

    def _leave(self, channel: str, listener: Listener) -> bool:
        """Take `listener` off; True where its channel has no listener left."""
        group = self._listeners.get(channel, set())
        group.discard(listener)
        if group:
            return False
        self._listeners.pop(channel, None)
        return True

    async def _read(self) -> None:
        """Wake each message's listeners; on a lost connection, subscribe again and wake all.
        Runs as long as the process; with no listener it waits for one (a sleep instead held
        the first news of a stream that came meanwhile for up to its length)."""
        while True:
            self._wanted.clear()
            if not self._listeners:  # idle until a stream listens (no await since the clear)
                await self._wanted.wait()
                continue
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=READ_TIMEOUT_S
                )
            except (RedisError, OSError, RuntimeError) as exc:  # RuntimeError: no connection
                log.warning("job changes: %s; subscribing again", type(exc).__name__)
                await self._resubscribe()
                continue
            if message is None:
                continue
            for listener in list(self._listeners.get(message["channel"], ())):
                listener.wake()

    async def _resubscribe(self) -> None:
        while self._listeners:
            await asyncio.sleep(RECONNECT_S)
            async with self._lock:
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.aclose()
                self._pubsub = self._client.pubsub()
                try:
                    if self._listeners:
                        await self._pubsub.subscribe(*self._listeners)
                except (RedisError, OSError):
                    continue
                for group in self._listeners.values():
                    for listener in group:
                        listener.wake()  # whatever was said meanwhile: read again
                return


# One per client (each process builds its clients once, in its own event loop).
_hubs: weakref.WeakKeyDictionary[aioredis.Redis, JobChanges] = weakref.WeakKeyDictionary()


def job_changes(client: aioredis.Redis) -> JobChanges:
    hub = _hubs.get(client)
    if hub is None:
        hub = _hubs[client] = JobChanges(client)
    return hub
