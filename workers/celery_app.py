"""The Celery app: Redis as broker, three queues (utils/names.py), the beat schedule.

Job state lives in our own Redis hashes (utils/jobs/store.py), so task results are not stored.
Tasks are acknowledged late and rejected when their worker process dies, so a block held by a
killed pool process goes straight back to the queue; if the whole worker dies, the broker hands
its unacknowledged tasks to another worker after the visibility timeout.

Workers and beat import the modules of `include` as they start: workers/lifecycle.py (what a
worker process sets up, builds once and stops) and workers/tasks.py (the tasks). This module
imports neither, so the API builds the app to send tasks by name without them.
"""

from __future__ import annotations

from celery import Celery

from config import Settings, get_settings
from utils.names import (
    CHECK_STALLED,
    NETWORK_BLOCKS_QUEUE,
    PURGE_STORAGE,
    RECOVER_LOST,
    SEND_DUE_WEBHOOKS,
    TASK_QUEUES,
)
from utils.redis_client import publish_retry_policy, sentinel_transport_options
from workers import log_fields


def create_celery(
    settings: Settings | None = None, publish_patience_s: float | None = None
) -> Celery:
    """The app workers and beat run, and that the API sends tasks through (by name).

    `publish_patience_s`: how long sending a task waits for the broker. Workers wait out an
    outage (REDIS_OUTAGE_PATIENCE_S); the API passes a short one and answers 503 instead.
    """
    settings = settings or get_settings()
    patience = publish_patience_s or settings.REDIS_OUTAGE_PATIENCE_S
    # every process that sends tasks passes its request id on (the API's too)
    log_fields.connect()
    app = Celery("tts", broker=settings.redis_url, include=["workers.lifecycle", "workers.tasks"])
    app.conf.update(
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_routes={task: {"queue": queue} for task, queue in TASK_QUEUES.items()},
        task_default_queue=NETWORK_BLOCKS_QUEUE,
        # The soft limit raises inside the task, which fails the block with a reason naming
        # it; the hard limit only catches a task that ignores the soft one.
        task_soft_time_limit=settings.BLOCK_TIME_LIMIT,
        task_time_limit=settings.hard_time_limit,
        task_publish_retry_policy=publish_retry_policy(patience),
        # A lost broker connection is retried for as long as it takes (never give up).
        broker_connection_max_retries=None,
        # So is a Redis that refuses writes for now (disk full, too few replicas): a channel
        # error, which would otherwise end the worker, its tasks' messages left unacknowledged
        # until the visibility timeout.
        broker_channel_error_retry=True,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            # Sweep for messages of dead workers every interval (kombu's default is 10 x 10 s).
            "unacked_restore_interval": settings.BROKER_RESTORE_INTERVAL,
            "unacked_restore_throttle": 1,
            # a REDIS_URL of sentinels: the primary's name (settings/cluster.py)
            **sentinel_transport_options(settings.sentinel),
        },
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule={
            "purge-storage": {"task": PURGE_STORAGE, "schedule": float(settings.PURGE_INTERVAL)},
            "check-stalled-jobs": {
                "task": CHECK_STALLED,
                "schedule": float(settings.STALL_CHECK_INTERVAL),
            },
            # Within WORKER_DEAD_AFTER_S plus this, a dead worker's blocks are sent again: a
            # look is a few reads (utils/jobs/liveness.py lost_blocks), cheap every 2 s.
            "recover-lost-work": {
                "task": RECOVER_LOST,
                "schedule": float(settings.liveness.check_s),
                # a look that waited longer than the next one is worth nothing
                "options": {"expires": float(settings.liveness.check_s)},
            },
            # webhook attempts whose retry is due (workers/webhooks.py)
            "send-due-webhooks": {
                "task": SEND_DUE_WEBHOOKS,
                "schedule": float(settings.webhook.sweep_interval_s),
            },
        },
    )
    return app


app = create_celery()
