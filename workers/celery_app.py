"""The Celery app: Redis as broker, three queues (utils/names.py), the beat schedule.

Job state lives in our own Redis hashes (utils/jobs/store.py), so task results are not stored.
Tasks are acknowledged late and rejected when their worker process dies, so a block held by a
killed pool process goes straight back to the queue; if the whole worker dies, the broker hands
its unacknowledged tasks to another worker after the visibility timeout.
"""

from __future__ import annotations

from celery import Celery

from config import Settings, get_settings
from utils.names import (
    BLOCKS_QUEUE,
    FAIL_STALLED,
    PURGE_STORAGE,
    RESEND_STRANDED,
    TASK_QUEUES,
)


def create_celery(settings: Settings | None = None) -> Celery:
    """The app workers and beat run, and that the API sends tasks through (by name)."""
    settings = settings or get_settings()
    app = Celery("tts", broker=settings.redis_url, include=["workers.tasks"])
    app.conf.update(
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_routes={task: {"queue": queue} for task, queue in TASK_QUEUES.items()},
        task_default_queue=BLOCKS_QUEUE,
        task_time_limit=settings.BLOCK_TIME_LIMIT,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            # Sweep for messages of dead workers every interval (kombu's default is 10 x 10 s).
            "unacked_restore_interval": settings.BROKER_RESTORE_INTERVAL,
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule={
            "purge-storage": {"task": PURGE_STORAGE, "schedule": float(settings.PURGE_INTERVAL)},
            "fail-stalled-jobs": {
                "task": FAIL_STALLED,
                "schedule": float(settings.STALL_CHECK_INTERVAL),
            },
            "resend-stranded-blocks": {
                "task": RESEND_STRANDED,
                "schedule": float(settings.HANDOFF_GRACE_S),
            },
        },
    )
    return app


app = create_celery()
