"""Webhooks: a finished job's event sent to its callback_url, retried for hours.

The event (`job.completed` or `job.failed`) is opened once per job, by whichever process moves
the job to that outcome (JobStore calls `announcer`'s function; a SET NX marker makes a
redelivered task's second call a no-op), and its first attempt is sent at once as a task on the
maintenance queue. A failed attempt (an answer other than 2xx or 410, a timeout, a refused
address, a redirect) schedules the next one WEBHOOK_RETRY_BASE_S later, doubling up to
WEBHOOK_RETRY_CAP_S apart, until WEBHOOK_RETRY_FOR_S after the first.

Why a schedule in Redis (tts:webhooks:due), swept by beat, rather than Celery's countdown: on
the Redis broker a countdown task is taken by a worker at once and held, unacknowledged, until
it is due; past the broker's visibility timeout (BLOCK_TIME_LIMIT + 90 s by default) the broker
hands it out again, so waits of up to an hour would be run twice, and every pending retry would
sit in some worker's memory. A zset costs one small entry per pending delivery, survives any
worker's restart, and beat sends each due attempt as an ordinary task.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable

from config import Settings
from utils.clock import epoch_of, now_iso
from utils.errors import ConfigurationError
from utils.jobs.models import JobStatus
from utils.jobs.queue import JobQueue
from utils.jobs.store import JobStore
from utils.webhooks.addresses import AddressPolicy
from utils.webhooks.deliveries import Deliveries
from utils.webhooks.sender import Attempt, post_event
from utils.webhooks.signing_secrets import WebhookSecrets

log = logging.getLogger(__name__)

EVENTS = {
    JobStatus.COMPLETED: "job.completed",
    JobStatus.FAILED: "job.failed",
    JobStatus.CANCELLED: "job.cancelled",  # announced by the API (utils/jobs/cancellation.py)
}
# An attempt holds its delivery's lock this much longer than its timeout; beat sends it again
# once the lease (longer still) runs out with no attempt recorded (its worker died).
LOCK_SLACK_S = 30
LEASE_SLACK_S = 60


def lease_s(settings: Settings) -> float:
    return settings.webhook.timeout_s + LEASE_SLACK_S


def announcer(
    jobs: JobStore, queue: JobQueue, settings: Settings
) -> Callable[[str, JobStatus], None]:
    """What JobStore calls when a job reaches an outcome (its `on_finished`, set by
    workers/lifecycle.py): opens and sends its webhook."""
    deliveries = Deliveries(jobs.redis)

    def announce(job_id: str, status: JobStatus) -> None:
        told = jobs.announcement(job_id)
        if not told.callback_url or status not in EVENTS:
            return
        event = EVENTS[status]
        body = event_body(job_id, status, told.duration_ms, told.error, told.links_base)
        webhook_id = f"msg_{uuid.uuid4().hex}"
        if deliveries.open(
            job_id,
            event,
            told.callback_url,
            body,
            webhook_id,
            int(told.expires_at),
            lease_s(settings),
        ):
            queue.webhook(job_id, event, 0)  # unsent (broker down): beat sends it after the lease

    return announce


def event_body(
    job_id: str,
    status: JobStatus,
    duration_ms: str | None,
    error: str | None,
    links_base: str | None,
) -> str:
    data: dict = {
        "job_id": job_id,
        "status": status.value,
        "duration_ms": int(duration_ms) if duration_ms else None,
    }
    if status == JobStatus.COMPLETED and links_base:
        data["url"] = f"{links_base.rstrip('/')}/result/{job_id}"
    if status == JobStatus.FAILED:
        data["error"] = error or "failed"
    return json.dumps(
        {"type": EVENTS[status], "timestamp": now_iso(), "data": data}, separators=(",", ":")
    )


def next_attempt_at(
    settings: Settings, n_attempts: int, first_at: float, now: float
) -> float | None:
    """When to try again after `n_attempts` failed; None once past WEBHOOK_RETRY_FOR_S."""
    delay = min(settings.webhook.retry_cap_s, settings.webhook.retry_base_s * 2 ** (n_attempts - 1))
    due = now + delay
    return due if due - first_at <= settings.webhook.retry_for_s else None


def deliver(
    settings: Settings,
    jobs: JobStore,
    deliveries: Deliveries,
    secrets: WebhookSecrets,
    job_id: str,
    event: str,
    n_attempts: int,
) -> Attempt | None:
    """Make attempt `n_attempts + 1` of the event's delivery, unless made or ended already."""
    lock_s = settings.webhook.timeout_s + LOCK_SLACK_S
    state = deliveries.begin(job_id, event, n_attempts, lock_s)
    if state is None:
        return None
    owner = jobs.owner_of(job_id)
    first_at = json.loads(state["attempts"])[0]["at"] if n_attempts else None
    try:
        secret = secrets.get(owner) if owner else None
    except ConfigurationError:  # cannot sign (the keys changed): a failed attempt, said why
        secret = None
    if secret is None:
        attempt = Attempt(
            now_iso(), 0, error="the webhook secret cannot be decrypted; rotate it to sign again"
        )
    else:
        attempt = post_event(
            state["url"],
            state["body"],
            secret,
            state["webhook_id"],
            AddressPolicy.from_settings(settings),
            settings.webhook.timeout_s,
        )
    now = time.time()
    next_at, stopped = None, ""
    if attempt.gone:
        stopped = "the receiver answered 410 Gone"
    elif not attempt.succeeded:
        started = epoch_of(first_at) if first_at else now
        next_at = next_attempt_at(settings, n_attempts + 1, started, now)
        if next_at is None:
            stopped = f"gave up after {n_attempts + 1} attempts"
    deliveries.record(job_id, event, attempt.as_dict(), attempt.succeeded, next_at, stopped)
    log.info(
        "webhook %s of job %s, attempt %d: %s",
        event,
        job_id,
        n_attempts + 1,
        attempt.status_code or attempt.error,
    )
    return attempt


def send_due(deliveries: Deliveries, queue: JobQueue, settings: Settings) -> int:
    """Send a task for every delivery whose next attempt is due; how many."""
    due = deliveries.claim_due(lease_s(settings))
    for job_id, event, n_attempts in due:
        queue.webhook(job_id, event, n_attempts)
    return len(due)
