"""A user's jobs, newest first, a page at a time (GET /jobs).

The index is the user's sorted set of job id -> created time that JobStore.create adds to; it
and the jobs are read through JobStore (utils/jobs/job_indexes.py), one pipeline per page. The
set expires with the user's newest job, so entries of jobs that expired before it are still
there: a read skips them and removes them (ZREM), so the set never grows past the jobs that
still exist plus one page's worth.

Pages are by cursor (the last entry's score and id, opaque to clients), so a job submitted or
expired while a client pages does not shift the pages it has not read; or by offset, simpler
and good enough for "page 3".
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from utils.jobs.store import JobStore


class BadCursor(ValueError):
    """A cursor this module did not hand out."""


@dataclass(frozen=True)
class JobSummary:
    id: str
    status: str
    done: int
    n_blocks: int
    output_format: str
    created_at: str
    updated_at: str
    error: str | None = None
    title: str | None = None  # its title tag, where it has one
    preview: str | None = None  # its first words (JobStore.create); none for older jobs

    @property
    def progress(self) -> str:
        return f"{self.done}/{self.n_blocks}"


# The most jobs an offset may skip: far more than one user's unexpired jobs, and far from the
# signed 64-bit range Redis reads ZRANGE's offset in (past it Redis answers an error).
MAX_OFFSET = 1_000_000


@dataclass(frozen=True)
class JobPage:
    jobs: list[JobSummary]
    next_cursor: str | None  # None on the last page
    next_offset: int | None


def encode_cursor(score: float, job_id: str) -> str:
    return base64.urlsafe_b64encode(f"{score!r}|{job_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        score, job_id = raw.split("|", 1)
        return float(score), job_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor("is not a cursor from a previous page (next_cursor)") from None


class JobListing:
    def __init__(self, jobs: JobStore):
        self.jobs = jobs

    def page(
        self, owner: str, limit: int, cursor: str | None = None, offset: int | None = None
    ) -> JobPage:
        """Up to `limit` of the owner's live jobs, newest first, after `cursor` (or skipping
        `offset` entries; neither: from the newest)."""
        after = decode_cursor(cursor) if cursor else None
        found: list[tuple[JobSummary, float]] = []
        start = offset or 0
        # Expired entries are skipped (and removed), so a page may take more than one read.
        while len(found) <= limit:
            want = limit + 1 - len(found)
            if after is None:
                entries = self.jobs.owner_jobs(owner, start, want)
            else:
                entries = self._after(owner, after, want)
            live = self._summaries(owner, entries)
            found += live
            if len(entries) < want:
                break
            start += len(live)  # the expired ones are gone from the set now
            if after is not None:
                after = (entries[-1][1], entries[-1][0])
        if len(found) <= limit:
            return JobPage([summary for summary, _ in found], None, None)
        last, score = found[limit - 1]
        next_offset = None if cursor else (offset or 0) + limit
        return JobPage([s for s, _ in found[:limit]], encode_cursor(score, last.id), next_offset)

    def _after(self, owner: str, after: tuple[float, str], want: int) -> list[tuple[str, float]]:
        """Entries older than `after` (score, id): equal scores come in descending id order."""
        score, job_id = after
        # Scores are creation times as floats: two equal ones are rare, 64 unheard of.
        entries = self.jobs.owner_jobs_up_to(owner, score, want + 64)
        entries = [(m, s) for m, s in entries if s < score or m < job_id]
        return entries[:want]

    def _summaries(
        self, owner: str, entries: list[tuple[str, float]]
    ) -> list[tuple[JobSummary, float]]:
        read = self.jobs.summaries([job_id for job_id, _ in entries])
        out, expired = [], []
        for (job_id, score), (raw, done) in zip(entries, read, strict=True):
            if raw["status"] is None:
                expired.append(job_id)
                continue
            summary = JobSummary(
                id=job_id,
                status=raw["status"],
                done=done,
                n_blocks=int(raw["n_blocks"]),
                output_format=raw["output_format"],
                created_at=raw["created_at"],
                updated_at=raw["updated_at"],
                error=raw["error"] or None,
                title=raw["title"] or None,
                preview=raw["preview"] or None,
            )
            out.append((summary, score))
        if expired:
            self.jobs.forget_owner_jobs(owner, expired)
        return out
