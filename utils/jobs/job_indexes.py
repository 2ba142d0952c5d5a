"""The indexes of jobs, read many jobs at a time: the unfinished jobs (where beat's stall check
looks) and each user's jobs (GET /jobs); part of JobStore (utils/jobs/store.py), which every
caller uses. Both are sorted sets by creation time that JobStore.create adds to; the jobs they
name are read in one pipeline. Keys: docs/ARCHITECTURE.md, "Redis schema".
"""

from __future__ import annotations

import redis

from utils.names import active_jobs_key, done_key, job_key, user_jobs_key

# What a listing shows of each job (utils/jobs/listing.py JobSummary)
SUMMARY_FIELDS = (
    "status",
    "n_blocks",
    "output_format",
    "created_at",
    "updated_at",
    "error",
    "title",
    "preview",
)


class JobIndexes:
    redis: redis.Redis

    def active_progress(self) -> list[tuple[str, str | None, str | None]]:
        """(job id, status, updated_at) of every unfinished job; an expired one (its hash gone:
        status None) is dropped from the index as it is read."""
        job_ids = self.redis.zrange(active_jobs_key(), 0, -1)
        with self.redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hmget(job_key(job_id), "status", "updated_at")
            rows = pipe.execute()
        for job_id, (status, _) in zip(job_ids, rows, strict=True):
            if status is None:  # expired: nothing left to fail
                self.redis.zrem(active_jobs_key(), job_id)
        return [(job_id, *row) for job_id, row in zip(job_ids, rows, strict=True)]

    def owner_jobs(self, owner: str, start: int, count: int) -> list[tuple[str, float]]:
        """(job id, created time) of the owner's jobs, newest first, from `start`."""
        return self.redis.zrevrange(user_jobs_key(owner), start, start + count - 1, withscores=True)

    def owner_jobs_up_to(self, owner: str, score: float, count: int) -> list[tuple[str, float]]:
        """(job id, created time) of the owner's jobs created at `score` or before, newest
        first."""
        return self.redis.zrevrangebyscore(
            user_jobs_key(owner), score, "-inf", start=0, num=count, withscores=True
        )

    def summaries(self, job_ids: list[str]) -> list[tuple[dict[str, str | None], int]]:
        """Each job's SUMMARY_FIELDS (all None once it expired) and how many of its blocks are
        done, in one round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hmget(job_key(job_id), SUMMARY_FIELDS)
                pipe.scard(done_key(job_id))
            replies = pipe.execute()
        return [
            (dict(zip(SUMMARY_FIELDS, replies[2 * n], strict=True)), int(replies[2 * n + 1]))
            for n in range(len(job_ids))
        ]

    def forget_owner_jobs(self, owner: str, job_ids: list[str]) -> None:
        """Drop expired jobs from the owner's index (it expires with their newest job only)."""
        self.redis.zrem(user_jobs_key(owner), *job_ids)
