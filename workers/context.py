"""What a worker process builds once and every task in it reuses."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import redis

from config import Settings, get_settings
from utils.audio_cache import AudioCache, build_audio_cache
from utils.jobs import JobStore
from utils.limiter import AccountLimiter
from utils.redis_client import connect
from utils.storage import Storage, build_storage
from workers.providers import ProviderRegistry, get_registry


@dataclass(frozen=True)
class WorkerContext:
    settings: Settings
    redis: redis.Redis
    jobs: JobStore
    storage: Storage
    providers: ProviderRegistry
    limiter: AccountLimiter
    cache: AudioCache | None


@lru_cache
def worker_context() -> WorkerContext:
    settings = get_settings()
    client = connect(settings.redis_url)
    storage = build_storage(settings)
    return WorkerContext(
        settings=settings,
        redis=client,
        jobs=JobStore(client, settings.JOB_TTL),
        storage=storage,
        providers=get_registry(),
        limiter=AccountLimiter(client),
        cache=build_audio_cache(client, storage, settings),
    )
