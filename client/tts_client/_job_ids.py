"""Job ids by their start, as git takes commit ids: `tts jobs` shows ids cut short, and a
command (or a library call through `resolve_job_id`) takes any start that names one job.

A full id (a UUID) is used as it is, without listing anything: the job may well be listed
nowhere the caller can page to in time, and the server says itself when it is not found.
A start is matched against the caller's own jobs (GET /jobs, every page), since the service
has no lookup by prefix: one match is the job, none is NotFound, more is AmbiguousJobId.
"""

from __future__ import annotations

import string
import uuid
from collections.abc import Iterable

from tts_client.errors import AmbiguousJobId, NotFound
from tts_client.models import JobSummary

SHORTEST = 8  # a UUID's first group: as short as git's 7, and it ends where a dash would
PAGE_SIZE = 100  # GET /jobs' largest page: the fewest requests to see every job
_ID_CHARACTERS = set(string.hexdigits + "-")


def is_full(job_id: str) -> bool:
    if len(job_id) != 36:
        return False
    try:
        uuid.UUID(job_id)
    except ValueError:
        return False
    return True


def start_of(job_id: str) -> str:
    """The start to look for: the way ids are written (lower case), or an error when no id
    could start so (then no listing is needed to say so)."""
    start = job_id.strip().lower()
    if not start:
        raise ValueError("give a job id, or its start as `tts jobs` shows it")
    if not set(start) <= _ID_CHARACTERS:
        raise NotFound(f"no job id starts with {job_id!r}: ids are hexadecimal digits and dashes")
    return start


def pick(start: str, jobs: Iterable[JobSummary]) -> str:
    """The one job whose id starts with `start`."""
    found = [job for job in jobs if job.job_id.startswith(start)]
    if not found:
        raise NotFound(f"none of your jobs has an id starting with {start!r}")
    if len(found) > 1:
        raise AmbiguousJobId(start, found)
    return found[0].job_id


def short_ids(ids: list[str], shortest: int = SHORTEST) -> list[str]:
    """The ids cut to one length, the shortest (from `shortest`) that tells them all apart."""
    length = shortest
    while len({i[:length] for i in ids}) < len(set(ids)):
        length += 1
    return [i[:length] for i in ids]
