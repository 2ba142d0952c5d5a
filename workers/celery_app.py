"""The Celery app: Redis as broker, three queues, the beat schedule.

Job state lives in our own Redis hashes (utils/jobs.py), so task results are not stored.
Tasks are acknowledged late and rejected when their worker process dies, so a block held by a
killed pool process goes straight back to the queue; if the whole worker dies, the broker hands
its unacknowledged tasks to another worker after the visibility timeout.
"""

from __future__ import annotations

from celery import Celery

from config import Settings, get_settings

BLOCKS_QUEUE = "tts.blocks"
COMBINE_QUEUE = "tts.combine"
MAINTENANCE_QUEUE = "tts.maintenance"
PROCESS_BLOCK = "tts.process_block"
COMBINE_BLOCKS = "tts.combine_blocks"
DISPATCH_BLOCKS = "tts.dispatch_blocks"
PURGE_TEMP = "tts.purge_temp"
FAIL_STALLED = "tts.fail_stalled_jobs"
RESEND_STRANDED = "tts.resend_stranded_blocks"


def create_celery(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    app = Celery("tts", broker=settings.redis_url, include=["workers.tasks"])
    app.conf.update(
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_routes={
            PROCESS_BLOCK: {"queue": BLOCKS_QUEUE},
            COMBINE_BLOCKS: {"queue": COMBINE_QUEUE},
            # Short control tasks share a queue, so they never wait behind long blocks.
            DISPATCH_BLOCKS: {"queue": COMBINE_QUEUE},
            PURGE_TEMP: {"queue": MAINTENANCE_QUEUE},
            FAIL_STALLED: {"queue": MAINTENANCE_QUEUE},
            RESEND_STRANDED: {"queue": MAINTENANCE_QUEUE},
        },
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
            "purge-temp-files": {"task": PURGE_TEMP, "schedule": float(settings.PURGE_INTERVAL)},
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


def send_blocks(celery: Celery, job_id: str, indices) -> None:
    """One process_block task per block, over one broker connection."""
    with celery.producer_or_acquire() as producer:
        for index in indices:
            celery.send_task(PROCESS_BLOCK, args=[job_id, index], producer=producer)
