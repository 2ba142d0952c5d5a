"""What the image and docker-compose are built from: no secrets or data in, none written down."""

from __future__ import annotations

import re

import pytest
import yaml

from config import PROJECT_ROOT
from scripts.commands import pool_commands
from utils.names import ALL_QUEUES


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or a folder above it decides; `!`
    re-includes. Patterns match whole path segments, `*` within one, `**` across any."""

    def matches(pattern: str, target: str) -> bool:
        regex = "".join(
            ".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part)
            for part in re.split(r"(\*\*|\*)", pattern.strip("/"))
        )
        return re.fullmatch(regex.replace(".*/", "(.*/)?"), target) is not None

    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if any(matches(pattern.lstrip("!"), prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


@pytest.fixture(scope="module")
def ignored() -> list[str]:
    lines = (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.production",
        "data/redis/appendonly.aof",
        "data/redis/appendonlydir/appendonly.aof.1.incr.aof",
        "data/audio/jobs/0b1c/final.mp3",
        "data/celerybeat-schedule.dat",
        "data/run.lock",
        "temp/scratch.wav",
        ".venv/bin/python",
        ".git/config",
        ".git",  # in a worktree, a file
        "bench/results/latest.json",
        "api/__pycache__/main.cpython-311.pyc",
        ".pytest_cache/v/cache/lastfailed",
        ".ruff_cache/0.17.6/123",
    ],
)
def test_secrets_data_and_build_leftovers_stay_out_of_the_image(path, ignored):
    assert dockerignore_excludes(path, ignored)


@pytest.mark.parametrize(
    "path", ["config.py", "api/main.py", "scripts/api.py", "requirements.txt", ".env.example"]
)
def test_the_code_goes_in(path, ignored):
    assert not dockerignore_excludes(path, ignored)


def test_the_matcher_follows_docker_rules():
    assert dockerignore_excludes("data/x/y", ["data"])
    assert not dockerignore_excludes("metadata/x", ["data"])
    assert dockerignore_excludes("a/b/__pycache__/c.pyc", ["**/__pycache__"])
    assert not dockerignore_excludes("temp/.gitkeep", ["temp/*", "!temp/.gitkeep"])


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


def test_compose_refuses_to_start_without_secrets_and_holds_none(compose):
    environment = compose["x-service"]["environment"]
    for name in ("SECRET_KEY", "ADMIN_PASSWORD"):
        assert re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", environment[name])
    text = (PROJECT_ROOT / "docker-compose.yml").read_text()
    assert "dev-secret-key-change-me" not in text and "admin-password" not in text
    # Beyond loopback inside the container: the service itself refuses a weak key too.
    assert environment["API_HOST"] == "0.0.0.0"


def test_compose_runs_the_api_through_the_shared_command_line(compose):
    assert compose["services"]["api"]["command"][:3] == ["python", "-m", "scripts.api"]


def test_the_compose_pools_consume_every_queue_between_them(compose):
    queues = set()
    for pool in ("local", "network"):
        command = compose["services"][f"worker-{pool}"]["command"]
        assert command == ["python", "-m", "scripts.worker", pool]
        built = pool_commands(2)[f"worker-{pool}"]
        queues |= set(built[built.index("-Q") + 1].split(","))
    assert queues == set(ALL_QUEUES)


def test_the_image_listens_beyond_loopback_through_the_shared_command_line():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "scripts.api"]' in dockerfile
    assert "API_HOST=0.0.0.0" in dockerfile
