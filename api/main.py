"""Builds the FastAPI app: clients in the lifespan, one router per resource, error handlers."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from slowapi.errors import RateLimitExceeded

from api.body_limit import BodySizeLimit
from api.errors import install_error_handlers
from api.rate_limits import build_limiter, rate_limit_exceeded
from api.routers import auth, catalog, jobs, results
from config import Settings, get_settings
from utils.audio_cache import build_audio_cache
from utils.jobs import JobStore
from utils.redis_client import connect, connect_async
from utils.storage import build_storage
from utils.users import UserStore
from workers.celery_app import create_celery
from workers.providers import ProviderRegistry

log = logging.getLogger("api")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        client = connect(settings.redis_url, max_connections=64)
        app.state.redis = client
        app.state.aredis = connect_async(settings.redis_url)  # for long-lived streams
        app.state.jobs = JobStore(client, settings.JOB_TTL)
        app.state.users = UserStore(client)
        app.state.storage = build_storage(settings)
        app.state.cache = build_audio_cache(client, app.state.storage, settings)
        app.state.providers = ProviderRegistry(settings.PROVIDERS)
        app.state.celery = create_celery(settings)  # used only to send tasks by name
        if settings.ADMIN_PASSWORD is not None:
            app.state.users.ensure(
                settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD.get_secret_value()
            )
        yield
        client.close()
        await app.state.aredis.aclose()

    app = FastAPI(
        title="TTS job service",
        version="1.0.0",
        description="Ordered text blocks in, one MP3 out, synthesized in parallel by workers.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.state.limiter = limiter = build_limiter(settings)
    app.add_exception_handler(RateLimitExceeded, rate_limit_exceeded)
    app.add_middleware(BodySizeLimit, max_bytes=settings.MAX_BODY_BYTES)
    app.include_router(auth.build_router(limiter, settings))
    app.include_router(jobs.build_router(limiter, settings))
    for module in (results, catalog):
        app.include_router(module.router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        app.state.redis.ping()
        return {"status": "ok"}

    return app


app = create_app()
