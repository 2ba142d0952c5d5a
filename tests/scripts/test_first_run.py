"""The first `make run` gives the checkout its own SECRET_KEY and admin password."""

from __future__ import annotations

import re
import stat
import subprocess
import sys

import pytest

from config import PROJECT_ROOT, Settings

EXAMPLE = PROJECT_ROOT / ".env.example"


def first_run(env_file) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scripts.first_run", "--env-file", str(env_file)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def value(env_file, name) -> str:
    return re.findall(rf"^{name}=(.*)$", env_file.read_text(), flags=re.MULTILINE)[-1]


@pytest.fixture
def settings_from(monkeypatch):
    """Settings from an env file alone, as a process with no such variables would read them."""
    for name in ("SECRET_KEY", "ADMIN_PASSWORD", "API_HOST"):
        monkeypatch.delenv(name, raising=False)
    return lambda env_file, **overrides: Settings(_env_file=env_file, **overrides)


def test_the_first_run_writes_random_secrets_and_prints_the_password_once(tmp_path, settings_from):
    env_file = tmp_path / ".env"
    result = first_run(env_file)
    assert result.returncode == 0, result.stderr
    password, secret = value(env_file, "ADMIN_PASSWORD"), value(env_file, "SECRET_KEY")
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert len(password) >= 20
    assert f"Admin login:  admin / {password}" in result.stdout
    assert secret not in result.stdout  # the key is never shown
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    # Everything else is the example's.
    assert env_file.read_text().count("\n") == EXAMPLE.read_text().count("\n")

    again = first_run(env_file)
    assert again.returncode == 0 and again.stdout == ""  # shown once
    assert (value(env_file, "ADMIN_PASSWORD"), value(env_file, "SECRET_KEY")) == (password, secret)
    flower = value(env_file, "FLOWER_BASIC_AUTH")
    assert re.fullmatch(r"flower:[A-Za-z0-9_-]{20,}", flower)  # what Flower's --basic-auth takes
    assert flower.split(":")[1] not in result.stdout
    assert value(env_file, "FLOWER_BASIC_AUTH") == flower
    redis_password = value(env_file, "EMBEDDED_REDIS_PASSWORD")
    assert re.fullmatch(r"[0-9a-f]{48}", redis_password)
    assert redis_password not in result.stdout

    # Strong enough to listen beyond loopback.
    settings = settings_from(env_file, API_HOST="0.0.0.0")
    assert settings.SECRET_KEY.get_secret_value() == secret
    assert settings.ADMIN_PASSWORD.get_secret_value() == password


def test_each_checkout_gets_its_own_secrets(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first_run(tmp_path / "a" / ".env"), first_run(tmp_path / "b" / ".env")
    for name in ("SECRET_KEY", "ADMIN_PASSWORD", "FLOWER_BASIC_AUTH", "EMBEDDED_REDIS_PASSWORD"):
        assert value(tmp_path / "a" / ".env", name) != value(tmp_path / "b" / ".env", name)


def test_an_existing_env_keeps_its_values_and_loses_a_placeholder_key(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "SECRET_KEY=dev-secret-key-change-me\nADMIN_PASSWORD=my-own-password\nAPI_PORT=8123\n"
    )
    result = first_run(env_file)
    assert "Updated" in result.stdout and "Admin login" not in result.stdout
    assert re.fullmatch(r"[0-9a-f]{64}", value(env_file, "SECRET_KEY"))
    assert value(env_file, "ADMIN_PASSWORD") == "my-own-password"
    assert value(env_file, "API_PORT") == "8123"
    assert value(env_file, "FLOWER_BASIC_AUTH").startswith("flower:")  # a .env from before Flower


def test_the_example_itself_holds_no_secret():
    text = EXAMPLE.read_text()
    assert re.search(r"^SECRET_KEY=$", text, flags=re.MULTILINE)
    assert re.search(r"^ADMIN_PASSWORD=$", text, flags=re.MULTILINE)
    assert re.search(r"^FLOWER_BASIC_AUTH=$", text, flags=re.MULTILINE)
    assert re.search(r"^EMBEDDED_REDIS_PASSWORD=$", text, flags=re.MULTILINE)


def test_make_run_writes_the_env_file_before_starting():
    # `make -n` prints the recipe without running it (nor building a virtualenv).
    commands = subprocess.run(
        ["make", "-n", "run"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    ).stdout
    assert commands.index("-m scripts.first_run") < commands.index("-m scripts.run")
