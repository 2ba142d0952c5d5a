"""DELETE /jobs/{job_id}: a job cancelled by its owner, and its audio purged on request.

The job's state moves at once (utils/jobs/cancellation.py): nothing more of it starts, its
blocks waiting for a slot leave their accounts' lines (utils/accounts/slot_lines.py), so the
slots go to other work now (the OpenAI speech route cancels its request's job the same way
when its client leaves); blocks in flight are discarded by their workers when their provider
call ends (workers/cancelled_blocks.py). The job's webhook, if it has one, is `job.cancelled`,
sent as every other outcome's (workers/webhooks.py).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentUser, JobsDep, SettingsDep, StorageDep, SubmitterDep
from api.schemas.jobs import JobCancelled
from config import Settings
from utils.errors import NotReady
from utils.jobs.cancellation import JobCancellation
from utils.jobs.models import JobStatus
from utils.jobs.store import JobStore
from utils.jobs.submit import JobSubmitter
from workers.webhooks import announcer

router = APIRouter(tags=["jobs"])

# A finished job cannot be cancelled, but its audio can still be purged.
PURGEABLE = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


def job_cancellation(
    jobs: JobStore, submitter: JobSubmitter, settings: Settings
) -> JobCancellation:
    """Cancels jobs as this API does: a cancelled job's webhook sent (job.cancelled)."""
    return JobCancellation(jobs, announcer(jobs, submitter.queue, settings))


@router.delete(
    "/jobs/{job_id}",
    response_model=JobCancelled,
    responses={409: {"description": "The job is combining, completed or failed."}},
)
def cancel_job(
    job_id: uuid.UUID,
    user: CurrentUser,
    jobs: JobsDep,
    storage: StorageDep,
    settings: SettingsDep,
    submitter: SubmitterDep,
    purge: Annotated[
        bool, Query(description="Also delete the job's audio (every stored object of it).")
    ] = False,
) -> JobCancelled:
    """Cancel a queued or processing job: no more of its blocks start, those in flight are
    discarded when they end, its account slots go to other work at once, and it ends
    `cancelled` (its blocks not made: `skipped`). Cancelling a cancelled job answers the same
    again. A combining, completed or failed job is a 409 naming its status, except with
    ?purge=true for a completed or failed one: its audio is deleted and its status kept."""
    job = jobs.get(str(job_id), owner=user.username, with_blocks=False)  # 404 for others
    cancellation = job_cancellation(jobs, submitter, settings)
    outcome = cancellation.cancel(job.id)
    if outcome.status != JobStatus.CANCELLED and not (purge and outcome.status in PURGEABLE):
        raise NotReady(
            f"job {job.id} is {outcome.status.value}: only a queued or processing job can be "
            "cancelled"
            + (
                ""
                if outcome.status == JobStatus.COMBINING
                else " (?purge=true deletes a finished job's audio)"
            ),
            outcome.status.value,
        )
    if purge:
        cancellation.purge(storage, job.id)
    return JobCancelled(job_id=job.id, status=outcome.status.value, purged=purge)
