"""The Wyoming server's process: `python -m api.wyoming [--host H] [--port P]`.

It builds the clients the API's lifespan builds (api/main.py), the ones a request needs:
Redis, storage, the providers, the job submitter, the per-user stream cap, the rate limiter,
then serves Wyoming (the `wyoming` package's AsyncTcpServer) until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from dataclasses import dataclass

import redis
import redis.asyncio as aioredis
from slowapi import Limiter
from wyoming.server import AsyncTcpServer

from api.rate_limits import build_limiter
from api.streaming import OpenStreams
from api.wyoming.handler import WyomingHandler
from api.wyoming.voices import VoiceBook
from config import Settings, get_settings
from settings.parsing import is_loopback
from utils.accounts.user_accounts import UserAccounts, cipher_from
from utils.audio.cache import build_audio_cache
from utils.jobs.queue import JobQueue
from utils.jobs.store import JobStore
from utils.jobs.submit import JobSubmitter
from utils.logs import configure_logging
from utils.redis_client import API_PATIENCE_S, connect, connect_async
from utils.storage.base import Storage
from utils.storage.factory import build_storage
from workers.celery_app import create_celery
from workers.providers import ProviderRegistry

log = logging.getLogger("wyoming")


@dataclass
class WyomingService:
    """What every connection shares."""

    settings: Settings
    redis: redis.Redis
    aredis: aioredis.Redis
    storage: Storage
    providers: ProviderRegistry
    submitter: JobSubmitter
    open_streams: OpenStreams
    limiter: Limiter
    voices: VoiceBook
    # Requests of this process whose audio is being made: a request's first piece is made
    # alone on every core only when it is the only one (requests.py says why).
    speaking: int = 0

    @classmethod
    def build(cls, settings: Settings) -> WyomingService:
        client = connect(settings.redis_url, max_connections=64, sentinel=settings.sentinel)
        storage = build_storage(settings.storage)
        providers = ProviderRegistry(
            settings.PROVIDERS, UserAccounts(client, cipher_from(settings))
        )
        jobs = JobStore(client, settings.JOB_TTL)
        submitter = JobSubmitter(
            jobs=jobs,
            queue=JobQueue(create_celery(settings, publish_patience_s=API_PATIENCE_S)),
            cache=build_audio_cache(client, storage, settings.AUDIO_CACHE_TTL),
            providers=providers,
        )
        return cls(
            settings=settings,
            redis=client,
            aredis=connect_async(settings.redis_url, sentinel=settings.sentinel),
            storage=storage,
            providers=providers,
            submitter=submitter,
            open_streams=OpenStreams(client, settings.MAX_STREAMS_PER_USER),
            limiter=build_limiter(settings),
            voices=VoiceBook(settings, providers),
        )

    async def close(self) -> None:
        self.redis.close()
        await self.aredis.aclose()


async def serve(settings: Settings) -> None:
    options = settings.wyoming
    if not is_loopback(options.host):
        log.warning(
            "wyoming: listening on %s: Wyoming has no authentication, so anyone who reaches "
            "port %s speaks as user %r (WYOMING_HOST, WYOMING_USER)",
            options.host,
            options.port,
            options.user,
        )
    service = WyomingService.build(settings)
    server = AsyncTcpServer(options.host, options.port)
    log.info("wyoming: serving on %s:%s as user %r", options.host, options.port, options.user)
    try:
        await server.run(lambda reader, writer: WyomingHandler(service, reader, writer))
    finally:
        await service.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.wyoming")
    parser.add_argument("--host", help="where it listens (default: WYOMING_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="its port (default: WYOMING_PORT, 10200)")
    args = parser.parse_args(argv)
    settings = get_settings()  # refused settings end the process here, with their names
    if args.host or args.port:
        wyoming = settings.wyoming.model_copy(
            update={k: v for k, v in (("host", args.host), ("port", args.port)) if v}
        )
        settings = settings.model_copy(update={"wyoming": wyoming})
    configure_logging(settings.log_format)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings))
    return 0
