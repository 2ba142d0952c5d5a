"""What the image and docker-compose are built from: no secrets or data in, none written down."""

from __future__ import annotations

import importlib.util
import re

import pytest
import yaml

from config import PROJECT_ROOT
from scripts.commands import beat_command, pool_commands
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
        "tests/test_deploy_files.py",
        "deploy/k8s/api.yaml",
    ],
)
def test_secrets_data_and_build_leftovers_stay_out_of_the_image(path, ignored):
    assert dockerignore_excludes(path, ignored)


@pytest.mark.parametrize(
    "path",
    [
        "config.py",
        "settings/base.py",
        "api/main.py",
        "scripts/api.py",
        "requirements.txt",
        ".env.example",
    ],
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


def python_module_of(command: list[str]) -> str | None:
    """The module of a `python -m module ...` command line."""
    return command[command.index("-m") + 1] if command[:2] == ["python", "-m"] else None


def assert_module_exists(module: str) -> None:
    assert importlib.util.find_spec(module) is not None, module


def test_every_compose_service_has_a_health_check_that_runs_real_code(compose):
    for name, service in compose["services"].items():
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] == "CMD", name
        command = test[1:]
        if command[:2] == ["python", "-m"]:
            assert_module_exists(python_module_of(command))
    services = compose["services"]
    for pool in ("local", "network"):
        check = services[f"worker-{pool}"]["healthcheck"]["test"]
        assert check == ["CMD", "python", "-m", "scripts.worker_alive", pool]
    assert "/live'" in services["api"]["healthcheck"]["test"][-1]


def test_compose_runs_exactly_one_beat_and_checks_its_schedule(compose):
    services = compose["services"]
    beats = [name for name, service in services.items() if "beat" in service.get("command", [])]
    assert beats == ["beat"]
    beat = services["beat"]
    assert beat["deploy"]["replicas"] == 1
    schedule = beat["command"][beat["command"].index("--schedule") + 1]
    assert beat["command"] == ["python", *beat_command(schedule)[1:]]
    assert beat["healthcheck"]["test"] == ["CMD", "python", "-m", "scripts.beat_alive", schedule]
    assert schedule.startswith("/data/")  # on the volume, not the read-only root


def test_flower_asks_for_a_login_from_a_required_variable(compose):
    flower = compose["services"]["flower"]
    assert flower["command"][:6] == ["python", "-m", "celery", "-A", "workers.celery_app", "flower"]
    # Flower reads FLOWER_BASIC_AUTH as --basic-auth; required, so no Flower without a login.
    auth = flower["environment"]["FLOWER_BASIC_AUTH"]
    assert re.fullmatch(r"\$\{FLOWER_BASIC_AUTH:\?[^}]+\}", auth)
    assert not any("basic-auth" in part or "basic_auth" in part for part in flower["command"])
    # It still gets the service's own settings (a merged map, not a replaced one).
    assert flower["environment"]["REDIS_URL"] == compose["x-service"]["environment"]["REDIS_URL"]
    assert all(port.startswith("127.0.0.1:") for port in flower["ports"])
    assert re.search(r"^flower==[0-9.]+", (PROJECT_ROOT / "requirements.txt").read_text(), re.M)


SECRET_NAME = re.compile(r"SECRET|PASSWORD|BASIC_AUTH|API_KEY|TOKEN|ACCESS_KEY", re.I)


def test_compose_holds_no_literal_secret(compose):
    text = (PROJECT_ROOT / "docker-compose.yml").read_text()
    # `NAME=value` or `NAME: value` with a secret's name, anywhere (commands included), unless
    # the value is a required reference to the environment.
    for match in re.finditer(r"(\w+)\s*[:=]\s*([^\s#]+)", text):
        name, value = match.groups()
        if SECRET_NAME.search(name):
            assert re.fullmatch(rf"\$\{{{name}:\?.*", value), match.group(0)
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert value.startswith(f"${{{key}:?"), (name, key)


def test_compose_containers_write_only_to_their_volumes(compose):
    shared = compose["x-service"]
    assert shared["read_only"] is True and shared["tmpfs"] == ["/tmp"]
    mounts = {volume.split(":")[1] for volume in shared["volumes"]}
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    # The image's writable folders are the mounted ones (and owned by its user there).
    assert mounts == {"/data", "/opt/piper-voices", "/opt/hf-models"}
    for folder in mounts:
        assert re.search(rf"chown -R 10001:10001 .*{folder}", dockerfile), folder
    for name, service in compose["services"].items():
        if name != "redis":
            assert service["read_only"] is True and service["volumes"] == shared["volumes"], name


def test_the_image_is_built_in_two_stages_and_runs_as_a_fixed_user():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert re.findall(r"^FROM \S+ AS (\w+)$", dockerfile, re.M) == ["builder", "runtime"]
    assert "COPY --from=builder /opt/venv /opt/venv" in dockerfile
    # The compiler stays in the builder: nothing is apt-installed after the runtime's FROM.
    runtime = dockerfile.split("AS runtime", 1)[1]
    assert "apt-get" not in runtime and "build-essential" not in runtime
    assert re.search(r"^USER 10001:10001$", runtime, re.M)
    assert "PYTHONDONTWRITEBYTECODE=1" in runtime and "DATA_DIR=/data" in runtime
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD python -c .*/live", runtime, re.M)
    labels = set(re.findall(r"org\.opencontainers\.image\.(\w+)=", runtime))
    assert {"title", "version", "revision"} <= labels
    # No secret in the image: no ENV or ARG names one.
    for line in re.findall(r"^(?:ENV|ARG)\b.*(?:\n\s+.*)*", dockerfile, re.M):
        assert not SECRET_NAME.search(line), line


def test_compose_runs_the_wyoming_server_published_on_loopback_only(compose):
    wyoming = compose["services"]["wyoming"]
    assert wyoming["command"] == ["python", "-m", "api.wyoming"]
    assert wyoming["environment"]["WYOMING_HOST"] == "0.0.0.0"  # inside its container
    assert wyoming["ports"] == ["127.0.0.1:10200:10200"]  # Wyoming has no authentication
    assert wyoming["healthcheck"]["test"] == ["CMD", "python", "-m", "api.wyoming.alive"]
