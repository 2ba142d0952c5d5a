"""A small fake worker context: a real Redis database and local storage, a fake provider that
counts its calls, and a queue that records what it was asked to send."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import numpy as np
import pytest

from config import ProviderConfig, Settings
from utils.accounts.slots import AccountSlots
from utils.audio.cache import AudioCache
from utils.audio.pcm import ProviderAudio
from utils.jobs.models import BlockSpec
from utils.jobs.store import JobStore
from utils.names import NETWORK_BLOCKS_QUEUE, liveness_looks_key
from utils.storage.local import LocalStorage
from workers.context import WorkerContext
from workers.providers import SynthesisRequest, TTSProvider, Voice

RATE = 24000
LEASE_S = 60


class FakeProvider(TTSProvider):
    """Half a second of tone per request, and a count of requests."""

    def __init__(self, name: str, config: ProviderConfig):
        super().__init__(name, config)
        self.requests: list[SynthesisRequest] = []

    def voices(self) -> list[Voice]:
        return [Voice("v1", "V1")]

    @property
    def default_voice(self) -> str:
        return "v1"

    def synthesize(self, request: SynthesisRequest) -> ProviderAudio:
        self.requests.append(request)
        t = np.arange(RATE // 2) / RATE
        pcm = (8000 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()
        return ProviderAudio(pcm, "pcm_s16le", RATE)


@dataclass
class FakeProviders:
    providers: dict[str, FakeProvider]

    def get(self, name: str) -> FakeProvider:
        return self.providers[name]

    def names(self) -> list[str]:
        return sorted(self.providers)

    def config(self, name: str) -> ProviderConfig:
        return self.providers[name].config

    def runs_locally(self, name: str) -> bool:
        return False

    def queue_for(self, name: str) -> str:
        return NETWORK_BLOCKS_QUEUE


@dataclass
class RecordingQueue:
    resent: list[tuple[str, int]] = field(default_factory=list)
    combined: list[str] = field(default_factory=list)
    later: list[tuple[str, int, float, int]] = field(default_factory=list)  # retries

    def resend_block(
        self, job_id: str, index: int, queue: str, countdown: float | None = None, retries: int = 0
    ) -> None:
        assert queue == NETWORK_BLOCKS_QUEUE  # the fake providers are all cloud accounts
        if countdown is None:
            self.resent.append((job_id, index))
        else:
            self.later.append((job_id, index, countdown, retries))

    def combine(self, job_id: str) -> None:
        self.combined.append(job_id)

    def blocks(self, job_id: str, queued) -> None:
        self.resent += [(job_id, index) for index, _ in queued]


@pytest.fixture
def ctx(redis_db, tmp_path) -> WorkerContext:
    configs = {
        "free": ProviderConfig(type="openai", concurrency=None),
        "acct": ProviderConfig(type="openai", concurrency=1, timeout_s=10),
    }
    settings = Settings(TEMP_DIR=tmp_path / "temp")
    # given as arguments, providers would be merged with the environment's
    settings.PROVIDERS, settings.DEFAULT_PROVIDER = configs, "free"
    storage = LocalStorage(tmp_path / "audio")
    return WorkerContext(
        settings=settings,
        redis=redis_db,
        jobs=JobStore(redis_db, 3600),
        storage=storage,
        providers=FakeProviders({n: FakeProvider(n, c) for n, c in configs.items()}),
        slots=AccountSlots(redis_db),
        cache=AudioCache(redis_db, storage, 3600),
        queue=RecordingQueue(),
    )


def new_job(ctx, *texts: str, provider: str = "free") -> str:
    job_id = str(uuid.uuid4())
    specs = [BlockSpec(text, provider, "v1") for text in texts]
    ctx.jobs.create(job_id, "alice", "mp3_24000_64", specs)
    return job_id


def calls(ctx, provider: str = "free") -> int:
    return len(ctx.providers.get(provider).requests)


def looks_unbroken(client) -> None:
    """As if beat had looked for lost blocks without a break for an hour: an expired heartbeat
    then counts as a death at once (utils/jobs/liveness.py expiries_count)."""
    seconds, micros = client.time()
    now = seconds + micros / 1e6
    client.hset(liveness_looks_key(), mapping={"since": f"{now - 3600:.6f}", "last": f"{now:.6f}"})
