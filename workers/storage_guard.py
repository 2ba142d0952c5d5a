"""A running worker takes no work while its storage is not the API's.

A worker that starts after the API announced other storage refuses to start
(workers/lifecycle.py). One already running when that happens (the API started later, or again
with other settings) checks on its consumer's own timer, every heartbeat period: while its
storage differs from the one the API announced, it stops consuming every queue (Celery's
`cancel_task_queue`, what the `cancel_consumer` remote command does): blocks, combines and purges
all read or write storage, so they go to the workers that share the API's; when the two agree
again it consumes them again. A block it had already taken is sent back to its queue by its
task (workers/tasks.py `_send_elsewhere`).
The timer runs on the consumer's thread, the one that may change what it consumes.
"""

from __future__ import annotations

import logging

import redis

from utils.jobs.liveness import this_worker
from utils.jobs.shared_storage import api_storage, refusal
from utils.names import ALL_QUEUES
from utils.storage.identity import StorageIdentity

log = logging.getLogger(__name__)


class StorageGuard:
    def __init__(self, consumer, client: redis.Redis, mine: StorageIdentity):
        self.consumer = consumer
        self.client = client
        self.mine = mine
        self.held: list[str] = []  # the queues it stopped consuming

    def check(self) -> None:
        try:
            api = api_storage(self.client)
        except redis.RedisError:  # an outage: the heartbeat and the broker report it
            return
        differs = api is not None and api.key != self.mine.key
        if differs and not self.held:
            tasks = self.consumer.task_consumer
            self.held = [q for q in ALL_QUEUES if tasks.consuming_from(q)]
            for queue in self.held:
                self.consumer.cancel_task_queue(queue)
            log.error("taking no work: %s", refusal(this_worker(), self.mine, api))
        elif not differs and self.held:
            for queue in self.held:
                self.consumer.add_task_queue(queue)
            log.info("storage shared with the API again: taking work from %s", self.held)
            self.held = []


def guard(consumer, client: redis.Redis, mine: StorageIdentity, every_s: float) -> StorageGuard:
    """Check now and every `every_s` on `consumer`'s timer (the worker_ready signal's sender)."""
    watch = StorageGuard(consumer, client, mine)
    watch.check()
    consumer.timer.call_repeatedly(every_s, watch.check)
    return watch
