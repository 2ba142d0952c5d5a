"""The API's errors as exceptions, one per thing a caller can do about it.

    TTSError                  anything the service or the connection to it reported
    ├── ValidationError       422: the request was refused; `problems` names each field
    ├── AuthError             401/403: a wrong password or API key, or an expired token
    ├── NotFound              404: no such job (or someone else's), provider, voice; or no
    │                         job of yours whose id starts so (resolve_job_id)
    ├── AmbiguousJobId        the start of an id that several of your jobs share: `candidates`
    ├── Conflict              409: not possible in the job's state (`status`), e.g. not done
    ├── RateLimited           429 after the retries: `retry_after` seconds
    ├── ServerError           5xx (503 after the retries)
    ├── Unreachable           no answer at all: connection refused, DNS, timeout
    └── JobFailed             wait(..., raise_on_failure=True) on a job that failed

Messages are the service's own `detail`, which names the block and the field (those about
the start of a job id are the client's: the service never sees a start).
"""

from __future__ import annotations

from dataclasses import dataclass


class TTSError(Exception):
    def __init__(self, message: str, status_code: int | None = None, body: object = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body


@dataclass(frozen=True)
class FieldProblem:
    """One problem of a refused request: field reads like `blocks[2].voice`."""

    field: str
    msg: str
    loc: tuple[str | int, ...] = ()
    type: str = "value_error"

    @property
    def block(self) -> int | None:
        """The index of the block the problem is in, if it is in one."""
        parts = self.loc[1:] if self.loc and self.loc[0] == "body" else self.loc
        if len(parts) >= 2 and parts[0] == "blocks" and isinstance(parts[1], int):
            return parts[1]
        return None


class ValidationError(TTSError):
    def __init__(self, problems: list[FieldProblem], status_code: int = 422, body=None):
        self.problems = problems
        message = "; ".join(p.msg for p in problems) or "the request was refused"
        super().__init__(message, status_code, body)


class AuthError(TTSError):
    pass


class NotFound(TTSError):
    pass


class AmbiguousJobId(TTSError):
    """resolve_job_id was given the start of more than one job's id."""

    def __init__(self, start: str, candidates: list):
        self.start = start
        self.candidates = candidates  # JobSummary of each job whose id starts so, newest first
        shown = ", ".join(job.job_id for job in candidates)
        super().__init__(f"job id {start!r} is ambiguous: {len(candidates)} jobs start so: {shown}")


class Conflict(TTSError):
    def __init__(self, message: str, status: str | None = None, status_code=409, body=None):
        super().__init__(message, status_code, body)
        self.status = status


class RateLimited(TTSError):
    def __init__(self, message: str, retry_after: float | None, status_code=429, body=None):
        super().__init__(message, status_code, body)
        self.retry_after = retry_after


class ServerError(TTSError):
    pass


class Unreachable(TTSError):
    pass


class JobFailed(TTSError):
    def __init__(self, status):
        super().__init__(f"job {status.job_id} failed: {status.error or 'no reason given'}")
        self.job = status
