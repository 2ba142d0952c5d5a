"""Client of the TTS job service: TTSClient (blocking), AsyncTTSClient (asyncio), their
models and errors, and the `tts` command line (tts_client.cli)."""

from tts_client._core import RetryPolicy
from tts_client.async_client import AsyncTTSClient
from tts_client.errors import (
    AmbiguousJobId,
    AuthError,
    Conflict,
    FieldProblem,
    JobFailed,
    NotFound,
    RateLimited,
    ServerError,
    TTSError,
    Unreachable,
    ValidationError,
)
from tts_client.models import (
    Block,
    BlockStatus,
    JobAccepted,
    JobCancelled,
    JobPage,
    JobResult,
    JobStatus,
    JobSummary,
    Provider,
    Voice,
)
from tts_client.script import script_to_job
from tts_client.sync_client import TTSClient

__all__ = [
    "AmbiguousJobId",
    "AsyncTTSClient",
    "AuthError",
    "Block",
    "BlockStatus",
    "Conflict",
    "FieldProblem",
    "JobAccepted",
    "JobCancelled",
    "JobFailed",
    "JobPage",
    "JobResult",
    "JobStatus",
    "JobSummary",
    "NotFound",
    "Provider",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "TTSClient",
    "TTSError",
    "Unreachable",
    "ValidationError",
    "Voice",
    "script_to_job",
]
