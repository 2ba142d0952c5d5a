"""A worker process's life: what it sets up as it starts, builds once, and does as it stops.

Celery imports this module in every worker and in beat (the app's `include`,
workers/celery_app.py) before it sends any of these signals:

    setup_logging            every process's logs through structlog (utils/logs.py)
    celeryd_init             a worker node counts its metrics in multiprocess mode
    worker_init              a thread pool (the network pool) sends again the blocks of dead
                             processes on its machine, builds its cloud providers, opens its
                             CPU lane and starts the blocks handed the slots it frees
    worker_ready             the node serves its metrics on WORKER_METRICS_PORT; a thread pool
                             starts beating
    worker_process_init      a process of the local pool is niced, beats, sends again the
                             blocks of dead processes on its machine, takes the free slots,
                             loads the voice
    worker_shutdown          blocks started here end before the process does
    worker_process_shutdown  a pool process's metric files are marked dead

`worker_context()` is what the process builds once and every task in it reuses. It is built
here rather than in workers/context.py because it ties the process's parts together: tasks
are sent through this app, and a job's outcome sends its webhook.

Every metric has labels, so its values are made when first counted: after celeryd_init has
chosen multiprocess mode (workers/metrics.py use_multiprocess), though Celery imports this
module, and with it utils/metrics.py, before it sends celeryd_init.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache

import redis
from celery import signals

from config import get_settings
from utils import local_devices
from utils.accounts.user_accounts import cipher_from
from utils.cpus import usable_cpus
from utils.jobs.liveness import Heartbeat, this_worker
from utils.jobs.queue import JobQueue
from utils.jobs.shared_storage import api_storage, refusal
from utils.logs import configure_logging
from utils.names import LOCAL_BLOCKS_QUEUE
from utils.redis_client import connect_fast
from utils.storage.identity import storage_identity
from utils.webhooks.deliveries import Deliveries
from utils.webhooks.signing_secrets import WebhookSecrets
from workers import cpu_lane, direct_handoff, storage_guard
from workers.block_attempts import make_handed_block
from workers.celery_app import app
from workers.context import WorkerContext, build_context
from workers.cpu_lane import CPU_WORK_NICENESS
from workers.housekeeping import reclaim_at_start
from workers.webhooks import announcer

log = logging.getLogger(__name__)
STORAGE_CHECK_TIMEOUT_S = 2.0
# The SDKs' HTTP client logs every request at INFO: at hundreds of calls a second that is noise,
# and a lock every thread of the network pool waits on. Failures are logged as block errors.
logging.getLogger("httpx").setLevel(logging.WARNING)


@lru_cache
def worker_context() -> WorkerContext:
    settings = get_settings()
    ctx = build_context(settings, JobQueue(app))
    liveness = settings.liveness
    identity = storage_identity(settings.storage).as_dict()
    Heartbeat.configure(liveness.heartbeat_s, liveness.dead_after_s, identity)
    # a job's outcome sends its webhook, whichever task reaches it
    ctx.jobs.on_finished = announcer(ctx.jobs, ctx.queue, settings)
    return ctx


@lru_cache
def webhook_deliveries() -> Deliveries:
    return Deliveries(worker_context().redis)


@lru_cache
def webhook_secrets() -> WebhookSecrets:
    ctx = worker_context()
    return WebhookSecrets(ctx.redis, cipher_from(ctx.settings))


def takes_local_blocks() -> bool:
    """Whether this worker consumes the local blocks' queue (its -Q)."""
    return LOCAL_BLOCKS_QUEUE in app.amqp.queues.consume_from


@signals.setup_logging.connect
def _setup_logging(loglevel=None, **_) -> None:
    # Connected, so Celery leaves logging alone; its --loglevel still sets the level.
    configure_logging(get_settings().log_format, loglevel or logging.INFO)


@signals.celeryd_init.connect
def _count_across_processes(sender=None, **_) -> None:
    settings = get_settings()
    if settings.WORKER_METRICS_PORT:
        from workers.metrics import metrics_dir, use_multiprocess

        use_multiprocess(metrics_dir(settings.DATA_DIR, str(sender)))


@signals.worker_init.connect
def _refuse_other_storage(**_) -> None:
    """A worker whose storage is not the API's would make blocks the combine cannot read: it
    does not start, and says so naming itself and both storages."""
    settings = get_settings()
    # a client that gives up at once: an unreachable Redis is the broker's to report and wait out
    client = connect_fast(settings.redis_url, STORAGE_CHECK_TIMEOUT_S, settings.sentinel)
    try:
        api = api_storage(client)
    except redis.RedisError:  # the API's storage unknown: /ready compares once it is known
        return
    finally:
        client.close()
    mine = storage_identity(settings.storage)
    if api is not None and api.key != mine.key:
        message = refusal(this_worker(), mine, api)
        log.error("refusing to start: %s", message)
        raise SystemExit(f"refusing to start: {message}")


@signals.worker_init.connect
def start_network_process(sender=None, **_) -> None:
    """A worker running its tasks on threads (the network pool) starts the blocks handed the
    slots it frees itself, and runs their CPU work on its low-priority lane."""
    if sender is None or not _runs_on_threads(sender.pool_cls):
        return
    _reclaim(worker_context(), local=False)  # before its consumer takes a first task
    _build_cloud_providers(worker_context())
    cpu_lane.open_lane(usable_cpus())
    # as many threads for handed blocks as the pool has for tasks: each is one slot's call
    threads = sender.concurrency if isinstance(sender.concurrency, int) else 0  # or "auto"
    direct_handoff.serve(_make_handed_block, threads or usable_cpus())


def _make_handed_block(job_id: str, index: int, queue: str) -> None:
    make_handed_block(worker_context(), job_id, index, queue, local=takes_local_blocks())


def _build_cloud_providers(ctx: WorkerContext) -> None:
    """Each cloud provider's SDK imported and client built before the first block: imported by
    a first block instead, it would hold up that block's request by a second or more."""
    for name in ctx.providers.names():
        try:
            if not ctx.providers.runs_locally(name):
                ctx.providers.get(name).warm_up()
        except Exception:  # a provider that cannot be built now will say why on its first block
            log.warning("could not prepare provider %s", name, exc_info=True)


def _runs_on_threads(pool_cls) -> bool:
    # an alias from the command line ("threads") or the pool's class
    name = pool_cls if isinstance(pool_cls, str) else getattr(pool_cls, "__module__", "")
    return name in ("threads", "celery.concurrency.thread")


@signals.worker_ready.connect
def _worker_ready(sender=None, **_) -> None:
    settings = get_settings()
    if sender is not None and getattr(sender, "timer", None) is not None:
        # takes no blocks while the API announces other storage (a client that gives up fast:
        # the check runs on the consumer's thread)
        client = connect_fast(settings.redis_url, STORAGE_CHECK_TIMEOUT_S, settings.sentinel)
        mine = storage_identity(settings.storage)
        storage_guard.guard(sender, client, mine, settings.liveness.heartbeat_s)
    if settings.WORKER_METRICS_PORT:
        from workers.metrics import serve

        serve(settings.WORKER_METRICS_PORT)
    if not takes_local_blocks():
        # A thread pool's tasks run in this process: it beats from now on, so probes see a
        # live worker before its first block (a prefork pool's processes beat as they start).
        Heartbeat.ensure(worker_context().redis)


@signals.worker_process_init.connect
def start_local_process(**_) -> None:
    """A process of a pool that takes local blocks counts itself in the local pool at once (so
    slots exist before its first block) and loads the default provider's voice, and every
    other local engine whose model is on this machine already, before a block waits."""
    if not takes_local_blocks():
        return
    # CPU-bound synthesis yields to the network pool: a cloud block whose audio has arrived
    # (or that was handed a slot) must not wait for a core while the account's slot idles.
    os.nice(CPU_WORK_NICENESS)
    ctx = worker_context()
    Heartbeat.ensure(ctx.redis, local=True)
    _reclaim(ctx, local=True)
    every_installed = ctx.settings.local.warm_up == "installed"
    for name in ctx.providers.names():
        if not ctx.providers.runs_locally(name):
            continue
        try:
            provider = ctx.providers.get(name)
            if name == ctx.settings.DEFAULT_PROVIDER or (
                every_installed and provider.loads_at_start()
            ):
                provider.warm_up()
        except Exception:  # a provider that cannot warm up now says why on its first block
            log.warning("could not warm up %s", name, exc_info=True)
    _tell_devices(ctx)


def _tell_devices(ctx: WorkerContext) -> None:
    """The start line says what this process's loaded engines run on, and /ready shows it."""
    devices = {}
    for name in ctx.providers.names():
        if ctx.providers.runs_locally(name):
            device = getattr(ctx.providers.get(name), "device", None)
            devices[name] = device or "not loaded"
    log.info("local engines: %s", ", ".join(f"{n} on {d}" for n, d in devices.items()))
    loaded = {name: device for name, device in devices.items() if device != "not loaded"}
    try:
        local_devices.record(ctx.redis, this_worker(), loaded)
    except redis.RedisError:
        log.warning("could not record this process's devices")


def _reclaim(ctx: WorkerContext, local: bool) -> None:
    """Blocks of processes that died on this machine sent again, and the local pool's slots
    this process adds taken, now: not when beat finds the dead heartbeats expired."""
    try:
        reclaim_at_start(ctx, local)
    except Exception:  # Redis away: beat's recovery pass does it later
        log.warning("could not look for the blocks of dead worker processes", exc_info=True)


@signals.worker_shutdown.connect
def stop_network_process(**_) -> None:
    """Blocks started here end before the process does (their slots handed on by message)."""
    direct_handoff.stop()
    cpu_lane.close_lane()


@signals.worker_process_shutdown.connect
def _process_exited(pid=None, **_) -> None:
    from workers.metrics import process_exited

    process_exited(pid or os.getpid())
