"""More than one process, more than one machine: how fast a dead worker process is noticed
(WORKER_*: utils/jobs/liveness.py, workers/housekeeping.py), and Redis through Sentinel
(REDIS_SENTINEL_*: utils/redis_client.py), for a REDIS_URL naming sentinels
(`sentinel://host1:26379;sentinel://host2:26379`, kombu's syntax)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings

from settings.base import group_config
from settings.parsing import OptionalSecret


class LivenessSettings(BaseSettings):
    """Worker heartbeats and beat's look for the blocks of dead processes."""

    model_config = group_config("WORKER_")

    heartbeat_s: float = Field(default=2.0, gt=0, le=60)
    """Seconds between a worker process's heartbeats: one pipelined write each, from a thread
    of its own, so a long block never holds one up."""
    dead_after_s: float = Field(default=6.0, gt=0, le=600)
    """A worker process silent this long is dead, and its blocks are sent again. At least two
    heartbeats, so one late beat never counts a slow but live process as dead."""
    check_s: float = Field(default=2.0, gt=0, le=600)
    """Seconds between beat's looks for blocks of dead processes (and for blocks handed a slot
    that never started): a death is acted on within WORKER_DEAD_AFTER_S plus this."""

    @model_validator(mode="after")
    def _two_beats_before_dead(self) -> LivenessSettings:
        if self.dead_after_s < 2 * self.heartbeat_s:
            raise ValueError(
                "WORKER_DEAD_AFTER_S must be at least twice WORKER_HEARTBEAT_S "
                f"({self.dead_after_s} < 2 x {self.heartbeat_s}): one late heartbeat would "
                "count a live process as dead"
            )
        return self


class SentinelSettings(BaseSettings):
    """Redis through Sentinel: used when REDIS_URL names sentinels (sentinel://...)."""

    model_config = group_config("REDIS_SENTINEL_")

    master: str = "mymaster"
    """The name the sentinels monitor the primary under (kombu's `master_name`)."""
    password: OptionalSecret = None
    """The sentinels' own password, where they ask for one (the primary's is REDIS_URL's)."""
