"""Accepting a job, and re-running a failed one: every step between a valid request and the
workers, so the API's handlers only translate HTTP.

Submitting is: create the job in Redis, finish at once the blocks whose audio is cached, then
send one message (a dispatch for the rest, or the combine when nothing is left). If the broker
refuses that message, the job is deleted again: nothing half-queued stays behind (a Redis
refusing writes is waited for within the API's patience; past it, the record stays, logged).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import redis

from utils.audio.cache import AudioCache, content_digest
from utils.audio.formats import OutputFormat
from utils.errors import NotReady, Unavailable
from utils.jobs.models import BlockSpec, JobOptions, JobRecord, JobStatus, prosody_context
from utils.jobs.queue import JobQueue
from utils.jobs.recovery import reset_for_retry
from utils.jobs.store import JobStore
from utils.storage.base import Storage
from utils.storage.keys import block_keys

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSubmitter:
    jobs: JobStore
    queue: JobQueue
    cache: AudioCache | None
    providers: object  # a ProviderRegistry: the cache identity includes each provider's model
    storage: Storage | None = None  # a retry makes again the blocks it cannot read

    def submit(
        self,
        owner: str,
        output_format: str,
        specs: list[BlockSpec],
        combine: bool = True,
        *,
        options: JobOptions | None = None,
        callback_url: str | None = None,
        links_base: str | None = None,
        job_id: str | None = None,
    ) -> JobRecord:
        """`job_id`: chosen by the caller where something is stored under it before the job
        exists (its cover image); else a new one."""
        job = self.jobs.create(
            job_id or str(uuid.uuid4()),
            owner,
            output_format,
            specs,
            combine,
            options=options,
            callback_url=callback_url,
            links_base=links_base,
        )
        pending, all_done = list(range(len(specs))), False
        if self.cache:
            pending, all_done = self._fill_from_cache(job, specs)
        try:
            if all_done:
                self.queue.combine(job.id)
            else:
                self.queue.dispatch(job.id, pending)
        except Unavailable:
            try:  # a Redis refusing writes is waited for, within the API's patience
                self.jobs.delete(job.id, len(specs))
            except redis.RedisError:
                log.error("job %s was refused but its record could not be deleted", job.id)
            raise
        return job

    def retry(self, job: JobRecord) -> list[int]:
        """Re-run the blocks of a failed job that did not finish; their indices."""
        if job.status != JobStatus.FAILED:
            raise NotReady(
                f"only a failed job can be retried; job {job.id} is {job.status.value}",
                job.status.value,
            )
        indices = reset_for_retry(self.jobs, job, self.storage)
        if indices:
            self.queue.dispatch(job.id, indices)
        else:
            self.queue.combine(job.id)  # every block was made: the combine is what failed
        return indices

    def _fill_from_cache(self, job: JobRecord, specs: list[BlockSpec]) -> tuple[list[int], bool]:
        """Finish the blocks whose audio is cached, before any task is sent; the blocks still
        to synthesize, and whether every block is now done."""
        digests = []
        for index, spec in enumerate(specs):
            provider = self.providers.get(spec.provider)
            context = (None, None)
            if provider.uses_context:
                before = specs[index - 1] if index > 0 else None
                after = specs[index + 1] if index + 1 < len(specs) else None
                context = prosody_context(spec, before, after)
            digests.append(
                content_digest(provider, spec, job.output_format, context, job.options.loudness)
            )
        pending, all_done = [], False
        fmt = OutputFormat.parse(job.output_format)
        for index, (digest, entry) in enumerate(
            zip(digests, self.cache.lookup(digests), strict=True)
        ):
            hit = None
            if entry:
                key, pcm_key = block_keys(job.id, index, fmt)
                hit = self.cache.restore(digest, key, entry, pcm_key=pcm_key)
            if hit is None:
                pending.append(index)
            else:
                all_done = self.jobs.finish_block(job, index, hit) or all_done
        return pending, all_done
