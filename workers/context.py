"""What a worker process builds once and every task in it reuses.

Workers build theirs in workers/lifecycle.py (`worker_context`), which also wires it to the
Celery app and to webhooks; tests build a WorkerContext of their own with small fakes (a
provider, a queue that records what it was asked to send) to run the work functions without
Celery.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from config import Settings
from utils.accounts.slots import AccountSlots
from utils.accounts.user_accounts import UserAccounts, cipher_from
from utils.audio.cache import AudioCache, build_audio_cache
from utils.jobs.queue import JobQueue
from utils.jobs.store import JobStore
from utils.redis_client import connect
from utils.storage.base import Storage
from utils.storage.factory import build_storage
from workers.providers import ProviderRegistry


@dataclass(frozen=True)
class WorkerContext:
    settings: Settings
    redis: redis.Redis
    jobs: JobStore
    storage: Storage
    providers: ProviderRegistry
    slots: AccountSlots
    cache: AudioCache | None
    queue: JobQueue  # how work asks for more work: re-sent blocks, the combine


def build_context(settings: Settings, queue: JobQueue) -> WorkerContext:
    """A context of real parts: Redis, storage and providers as `settings` say, tasks sent
    through `queue`."""
    client = connect(
        settings.redis_url, settings.REDIS_OUTAGE_PATIENCE_S, sentinel=settings.sentinel
    )
    storage = build_storage(settings.storage)
    return WorkerContext(
        settings=settings,
        redis=client,
        jobs=JobStore(client, settings.JOB_TTL),
        storage=storage,
        providers=ProviderRegistry(settings.PROVIDERS, UserAccounts(client, cipher_from(settings))),
        slots=AccountSlots(client),
        cache=build_audio_cache(client, storage, settings.AUDIO_CACHE_TTL),
        queue=queue,
    )
