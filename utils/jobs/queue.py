"""Sending the service's tasks by name (utils/names.py), from the API or from a worker.

The sender needs only a Celery app configured with the broker (workers/celery_app.py builds
it); it never imports the tasks themselves. A broker that cannot take a message is reported
as Unavailable, so the API answers 503 and keeps nothing half-queued.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import Celery
from kombu.exceptions import KombuError
from redis import RedisError

from utils.errors import Unavailable
from utils.names import COMBINE_BLOCKS, DELIVER_WEBHOOK, DISPATCH_BLOCKS, PROCESS_BLOCK

log = logging.getLogger(__name__)


class JobQueue:
    def __init__(self, celery: Celery):
        self.celery = celery

    def dispatch(self, job_id: str, indices: Iterable[int]) -> None:
        """One message whatever the job's size: a worker fans it out into block tasks."""
        self._send(job_id, DISPATCH_BLOCKS, [job_id, list(indices)])

    def combine(self, job_id: str) -> None:
        self._send(job_id, COMBINE_BLOCKS, [job_id])

    def blocks(self, job_id: str, queued: Iterable[tuple[int, str]]) -> None:
        """One process_block task per (block index, queue of its provider's pool), over one
        broker connection."""
        with self.celery.producer_or_acquire() as producer:
            for index, queue in queued:
                self.celery.send_task(
                    PROCESS_BLOCK, args=[job_id, index], queue=queue, producer=producer
                )

    def resend_block(
        self,
        job_id: str,
        index: int,
        queue: str,
        countdown: float | None = None,
        retries: int = 0,
    ) -> None:
        """A block handed an account slot, or lost with its worker: run it now, on its pool;
        or a retry of one made without a task (workers/direct_handoff.py): after `countdown`,
        as attempt `retries` + 1."""
        self.celery.send_task(
            PROCESS_BLOCK, args=[job_id, index], queue=queue, countdown=countdown, retries=retries
        )

    def webhook(self, job_id: str, event: str, n_attempts: int) -> None:
        """Attempt `n_attempts + 1` of a job's webhook. Unsent, it is only logged: the delivery
        is in the schedule (utils/webhooks/deliveries.py), which beat sends again."""
        try:
            self.celery.send_task(DELIVER_WEBHOOK, args=[job_id, event, n_attempts])
        except (KombuError, RedisError, OSError) as exc:
            log.warning("webhook of job %s not sent now: %s", job_id, type(exc).__name__)

    def _send(self, job_id: str, task: str, args: list) -> None:
        try:
            self.celery.send_task(task, args=args)
        except (KombuError, RedisError, OSError) as exc:
            log.error("could not queue job %s: %s", job_id, type(exc).__name__)
            raise Unavailable("the job queue is unavailable; nothing was queued") from exc
