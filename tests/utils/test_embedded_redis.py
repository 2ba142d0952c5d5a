"""The bundled Redis is its owner's alone: it asks for a password (never on its command line,
which every local user can read) and keeps its files where only its owner can read them."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import redis

from utils.embedded_redis import EmbeddedRedis, free_port

PASSWORD = 'a-password-with-"quotes"-and-\\back\\slashes'


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def protected(tmp_path):
    data = tmp_path / "redis"
    data.mkdir(mode=0o755)
    (data / "appendonly.aof").write_text("")  # as an earlier version left it: 0644
    (data / "appendonly.aof").chmod(0o644)
    server = EmbeddedRedis(free_port(), data, persistent=True, password=PASSWORD).start()
    yield server
    server.stop()


def test_the_bundled_redis_refuses_a_client_without_its_password(protected):
    stranger = redis.Redis(port=protected.port, socket_timeout=2)
    with pytest.raises(redis.AuthenticationError):
        stranger.ping()
    owner = redis.Redis.from_url(protected.url, socket_timeout=2)
    assert owner.set("k", "v") and owner.get("k") == b"v"


def test_its_password_is_not_on_its_command_line(protected):
    cmdline = Path(f"/proc/{protected.process.pid}/cmdline").read_bytes()
    assert b"requirepass" not in cmdline and b"a-password" not in cmdline


def test_its_files_are_its_owners_alone(protected):
    owner = redis.Redis.from_url(protected.url, socket_timeout=2)
    owner.set("k", "v")
    owner.bgrewriteaof()
    assert mode(protected.data_dir) == 0o700
    files = [p for p in protected.data_dir.iterdir() if p.is_file()]
    assert {"redis.conf", "redis.log", "appendonly.aof"} <= {p.name for p in files}
    assert all(mode(p) == 0o600 for p in files), {p.name: oct(mode(p)) for p in files}


def test_without_a_password_it_answers_anyone_as_before(tmp_path):
    server = EmbeddedRedis(free_port(), tmp_path / "open", persistent=False).start()
    try:
        assert redis.Redis(port=server.port, socket_timeout=2).ping()
        assert "@" not in server.url
    finally:
        server.stop()


def test_the_services_processes_reach_it_with_its_password(tmp_path):
    from config import Settings

    settings = Settings(
        _env_file=None, REDIS_URL=None, EMBEDDED_REDIS_PORT=6390, EMBEDDED_REDIS_PASSWORD="p@ss:/"
    )
    bundled = EmbeddedRedis(6390, tmp_path, password="p@ss:/")
    assert settings.redis_url == bundled.url == "redis://:p%40ss%3A%2F@127.0.0.1:6390/0"
    assert (
        redis.Redis.from_url(settings.redis_url).connection_pool.connection_kwargs["password"]
        == "p@ss:/"
    )
