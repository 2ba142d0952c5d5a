"""Builds the FastAPI app: clients in the lifespan, one router per resource, error handlers."""

from __future__ import annotations

import gc
import logging
import sys
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware

from api import metrics, probes
from api.access_log import install_access_log_redaction
from api.body_limit import BodySizeLimit
from api.console.site import install_console
from api.cors import with_cors
from api.docs import API_DESCRIPTION, install_docs
from api.errors import install_error_handlers
from api.keep_alive import KeepAliveAfterErrors
from api.metrics import build_registry
from api.rate_limits import build_limiter
from api.realtime.router import router as realtime_router
from api.request_context import RequestContext
from api.routers import (
    accounts,
    auth,
    books,
    cancel,
    catalog,
    events,
    jobs,
    keys,
    lexicons,
    previews,
    projects,
    results,
    speech,
    timings,
    users,
    webhooks,
)
from api.schemas.jobs import quote_limits
from api.streaming import OpenStreams
from config import Settings, get_settings
from utils.accounts.user_accounts import UserAccounts, cipher_from
from utils.audio.cache import build_audio_cache
from utils.auth.api_keys import ApiKeys
from utils.auth.users import UserStore
from utils.jobs.queue import JobQueue
from utils.jobs.shared_storage import announce_api_storage
from utils.jobs.store import JobStore
from utils.jobs.submit import JobSubmitter
from utils.lexicons.store import LexiconStore
from utils.logs import configure_logging
from utils.projects.store import ProjectStore
from utils.readiness import Readiness
from utils.redis_client import API_PATIENCE_S, connect, connect_async
from utils.storage.factory import build_storage
from utils.storage.identity import storage_identity
from utils.webhooks.signing_secrets import WebhookSecrets
from workers.celery_app import create_celery
from workers.providers import ProviderRegistry

log = logging.getLogger("api")

# The event loop shares the GIL with the threads of sync routes. At Python's default (5 ms) a
# thread parsing a big SSML document kept the loop waiting 5 ms at each of the dozen or so times
# a request hands the GIL back (a read, a write): 140-170 ms for a /live probe beside one such
# request (bench/probe_bench.py). Handing it over sooner costs that thread little.
GIL_SWITCH_INTERVAL_S = 0.001


class ServiceApp(FastAPI):
    def build_middleware_stack(self):
        # CORS outside Starlette's own outermost layer (ServerErrorMiddleware), whose 500s would
        # otherwise reach a page on another origin unreadable; pre-flights are answered there,
        # before the Host check or body limit could refuse them (api/cors.py). The request
        # context outside that, so pre-flights and 500s get their id, metrics and log line too.
        app = with_cors(super().build_middleware_stack(), self.state.settings.cors)
        # Outermost: Starlette's layer raises every 500 again after sending it.
        return KeepAliveAfterErrors(RequestContext(app))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    configure_logging(settings.log_format)
    install_access_log_redaction()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        client = connect(settings.redis_url, max_connections=64, sentinel=settings.sentinel)
        app.state.redis = client
        # for long-lived streams
        app.state.aredis = connect_async(settings.redis_url, sentinel=settings.sentinel)
        app.state.jobs = jobs = JobStore(client, settings.JOB_TTL)
        app.state.users = UserStore(client)
        app.state.api_keys = ApiKeys(client)
        app.state.open_streams = OpenStreams(client, settings.MAX_STREAMS_PER_USER)
        app.state.storage = storage = build_storage(settings.storage)
        app.state.accounts = accounts = UserAccounts(client, cipher_from(settings))
        app.state.webhook_secrets = WebhookSecrets(client, cipher_from(settings))
        app.state.lexicons = LexiconStore(client, settings.lexicons.max_per_user)
        app.state.projects = ProjectStore(client, settings.projects.max_per_user)
        app.state.providers = providers = ProviderRegistry(settings.PROVIDERS, accounts)
        app.state.submitter = JobSubmitter(
            jobs=jobs,
            # The API only sends tasks, by name; it never imports them.
            queue=JobQueue(create_celery(settings, publish_patience_s=API_PATIENCE_S)),
            cache=build_audio_cache(client, storage, settings.AUDIO_CACHE_TTL),
            providers=providers,
            storage=storage,
        )
        identity = storage_identity(settings.storage)
        try:  # what every worker must share; a worker on another refuses to start
            announce_api_storage(client, identity)
        except redis.RedisError:
            log.warning("could not announce this API's storage (Redis unavailable)")
        app.state.readiness = readiness = Readiness(
            settings.redis_url, storage, settings.READY_STORAGE_CHECK_S, identity, settings.sentinel
        )
        # Read with the probes' client, which fails fast: a scrape must not wait out an outage.
        app.state.metrics = build_registry(readiness.client, lambda: limited_accounts(settings))
        if settings.ADMIN_PASSWORD is not None:
            app.state.users.ensure(
                settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD.get_secret_value()
            )
        else:
            # Without it nobody can get a token; say how to fix that rather than stay silent.
            log.warning(
                "ADMIN_PASSWORD is not set, so no admin user was created; add a user with "
                "`make add-user NAME=alice` (python -m api.cli add-user alice), or set "
                "ADMIN_PASSWORD in .env"
            )
        # What start-up built lives as long as the process: out of the collector's full passes,
        # which otherwise walk it all (tens of ms, holding the GIL) every few thousand requests
        gc.freeze()
        yield
        gc.unfreeze()  # collectable again once the app is done with it (tests build many apps)
        client.close()
        readiness.close()
        await app.state.aredis.aclose()

    app = ServiceApp(
        title="TTS job service",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by install_docs, from local files
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.limiter = build_limiter(settings)
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.MAX_BODY_BYTES,
        larger={books.BOOK_PATH: settings.books.max_upload_bytes},
    )
    # Added last, so it runs first: links handed out are built from the Host header.
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
    for module in (
        auth,
        jobs,
        books,
        events,
        cancel,
        results,
        timings,
        catalog,
        accounts,
        keys,
        lexicons,
        projects,
        previews,
        users,
        speech,
        webhooks,
        probes,
        metrics,
    ):
        app.include_router(module.router)
    app.include_router(realtime_router)
    install_docs(app)
    install_console(app, settings)

    default_openapi = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = quote_limits(default_openapi(), settings)
        return app.openapi_schema

    app.openapi = openapi

    return app


def limited_accounts(settings: Settings) -> list[str]:
    """The configured accounts whose slots are counted (those with an in-flight limit)."""
    return [name for name, config in settings.PROVIDERS.items() if config.concurrency]


app = create_app()
