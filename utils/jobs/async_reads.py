"""Job state read with the asyncio client: the API's audio streams wait for each block on the
event loop (api/streaming.py), where JobStore's synchronous client would block it.

The one reader of job state besides JobStore (utils/jobs/store.py); it only reads.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from utils.jobs.models import BlockRecord, BlockStatus, JobStatus
from utils.names import block_key, job_key


async def completed_block(client: aioredis.Redis, job_id: str, index: int) -> BlockRecord | None:
    """The block, if it is completed."""
    raw = await client.hgetall(block_key(job_id, index))
    if raw.get("status") == BlockStatus.COMPLETED.value:
        return BlockRecord.from_hash(index, raw)
    return None


async def job_failed_or_gone(client: aioredis.Redis, job_id: str) -> bool:
    """Whether the job failed, was cancelled or expired: no block of it will be made any more."""
    status = await client.hget(job_key(job_id), "status")
    return status in (JobStatus.FAILED.value, JobStatus.CANCELLED.value, None)
