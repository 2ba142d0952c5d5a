"""A voice's preview: one fixed sentence spoken by that voice, made once through the workers
(a job of one block, like any: account limits, retries and the audio cache apply) and then
kept in storage under previews/, which no purge touches.

The key is a digest of what shapes the audio (the provider's audio identity, as the audio
cache has it: its configured name, type, server and model), the voice and the sentence, so a
provider reconfigured or a new sentence makes new previews rather than serving old ones.
"""

from __future__ import annotations

import hashlib
import json
import time

from utils.errors import ObjectNotFound, SynthesisFailed, SynthesisTimedOut
from utils.jobs.models import BlockSpec, JobStatus
from utils.jobs.submit import JobSubmitter
from utils.storage.base import Storage
from utils.storage.keys import voice_preview_key

PREVIEW_FORMAT = "mp3_24000_64"
POLL_S = 0.2


def preview_key(provider, voice: str, text: str) -> str:
    identity = [*provider.audio_identity(), voice, text, PREVIEW_FORMAT]
    digest = hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()
    return voice_preview_key(digest)


def stored_preview(storage: Storage, key: str) -> bytes | None:
    try:
        with storage.open(key) as stored:
            return stored.read()
    except ObjectNotFound:
        return None


def start_preview(submitter: JobSubmitter, owner: str, provider: str, voice: str, text: str):
    """The job that speaks the preview (a JobRecord)."""
    return submitter.submit(owner, PREVIEW_FORMAT, [BlockSpec(text, provider, voice)])


def finished_preview(submitter: JobSubmitter, storage: Storage, job_id: str, key: str):
    """The preview's bytes once its job completed (kept at `key`); None while it runs."""
    job = submitter.jobs.get(job_id)
    if job.status == JobStatus.COMPLETED:
        storage.copy(job.storage_key, key)
        return stored_preview(storage, key)
    if job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        reason = job.error or next((b.error for b in job.blocks if b.error), None)
        raise SynthesisFailed(f"the preview could not be made: {reason or job.status.value}")
    return None


def wait_deadline(timeout_s: float) -> float:
    return time.monotonic() + timeout_s


def past(deadline: float, timeout_s: float) -> None:
    if time.monotonic() > deadline:
        raise SynthesisTimedOut(
            f"the preview was not made within {timeout_s:g} s (PROJECT_PREVIEW_TIMEOUT_S): "
            "are the workers running?"
        )
