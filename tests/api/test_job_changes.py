"""One pub/sub connection for every stream of a process (api/job_changes.py), against a real
Redis: many listeners, one subscribing connection; each woken by its own job alone; the
subscription made again after the connection is killed."""

from __future__ import annotations

import asyncio
import contextlib

import redis
import redis.asyncio as aioredis

from api.job_changes import JobChanges
from utils.names import job_events_channel

N = 60


def pubsub_clients(sync: redis.Redis) -> int:
    return len(sync.client_list(_type="pubsub"))


def test_many_listeners_share_one_connection_and_hear_their_own_job(redis_server):
    sync = redis.Redis(port=redis_server.port, decode_responses=True)
    before = pubsub_clients(sync)

    async def scenario():
        client = aioredis.Redis(port=redis_server.port, decode_responses=True)
        hub = JobChanges(client)
        channels = [job_events_channel(f"job-{i}") for i in range(N)]
        async with contextlib.AsyncExitStack() as stack:
            listeners = [await stack.enter_async_context(hub.listen(c)) for c in channels]
            # a second listener on the first job: both woken by its news
            twin = await stack.enter_async_context(hub.listen(channels[0]))
            assert pubsub_clients(sync) - before == 1
            assert sync.pubsub_numsub(channels[0])[0][1] == 1  # one subscription, two ears
            await client.publish(channels[0], "{}")
            assert await listeners[0].changed(2.0) and await twin.changed(2.0)
            assert not await listeners[1].changed(0.3)  # another job's stream stays asleep
            await client.publish(channels[7], "{}")
            assert await listeners[7].changed(2.0)
            assert not await listeners[0].changed(0.3)  # news is had once
        # every stream closed: no channel left subscribed (once Redis has read the unsubscribe)
        for _ in range(50):
            if all(n == 0 for _, n in sync.pubsub_numsub(*channels)):
                break
            await asyncio.sleep(0.05)
        assert all(n == 0 for _, n in sync.pubsub_numsub(*channels))
        await client.aclose()

    asyncio.run(scenario())
    sync.close()


def test_a_killed_connection_is_made_again_and_its_listeners_hear_on(redis_server):
    sync = redis.Redis(port=redis_server.port, decode_responses=True)
    channel = job_events_channel("job-killed")

    async def scenario():
        client = aioredis.Redis(port=redis_server.port, decode_responses=True)
        hub = JobChanges(client)
        async with hub.listen(channel) as listener:
            await asyncio.sleep(0.2)
            sync.client_kill_filter(_type="pubsub")
            for _ in range(50):  # subscribed again, on a new connection
                if sync.pubsub_numsub(channel)[0][1] == 1:
                    break
                await asyncio.sleep(0.1)
            await client.publish(channel, "{}")
            assert await listener.changed(2.0)
        await client.aclose()

    asyncio.run(scenario())
    sync.close()


def test_news_after_an_idle_spell_is_heard_at_once(redis_server):
    """The reader, idle with no listener, reads as soon as one comes: a stream's first news is
    not held back (a first sentence's audio waited up to a second for it)."""

    async def scenario():
        client = aioredis.Redis(port=redis_server.port, decode_responses=True)
        hub = JobChanges(client)
        async with hub.listen(job_events_channel("job-before")):
            pass
        await asyncio.sleep(0.3)  # nobody listening: the reader idles
        channel = job_events_channel("job-after")
        async with hub.listen(channel) as listener:
            started = asyncio.get_running_loop().time()
            await client.publish(channel, "{}")
            assert await listener.changed(2.0)
            waited = asyncio.get_running_loop().time() - started
        await client.aclose()
        return waited

    assert asyncio.run(scenario()) < 0.1
