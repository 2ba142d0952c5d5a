"""Settings: refused with their names and never their values; who may use a weak key; .env."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from config import PROJECT_ROOT, Settings, SettingsError, describe_errors, get_settings
from scripts.commands import api_command, worker_command
from utils.embedded_redis import free_port

SECRET = "s3cr3t-hunter2-value"
BAD_SETTINGS = {
    # A port that is not a number: the whole URL, password included, is the input.
    "REDIS_URL": f"redis://:{SECRET}@127.0.0.1:notaport/0",
    # No cloud name after the secret.
    "CLOUDINARY_URL": f"cloudinary://123456:{SECRET}",
}
ENTRY_POINTS = {
    "run command": [sys.executable, "-m", "scripts.run"],
    "api (uvicorn)": api_command(free_port()),
    "api (image)": [sys.executable, "-m", "scripts.api"],
    "worker": worker_command(1),
    "cli": [sys.executable, "-m", "api.cli", "add-user", "zoe", "--password-stdin"],
}


@pytest.mark.parametrize("name", BAD_SETTINGS)
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_refused_setting_is_named_without_its_value(name, entry):
    env = {**os.environ, name: BAD_SETTINGS[name]}
    result = subprocess.run(
        ENTRY_POINTS[entry],
        cwd=PROJECT_ROOT,
        env=env,
        input="zoe-password\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert SECRET not in output
    assert "Traceback" not in output
    assert f"  {name}: must look like " in result.stderr


def test_a_worker_that_cannot_reach_redis_does_not_show_its_password(tmp_path):
    env = {**os.environ, "REDIS_URL": f"redis://:{SECRET}@127.0.0.1:{free_port()}/0"}
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            worker_command(1), cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while "Cannot connect to redis" not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
    finally:
        worker.kill()
        worker.wait()
    assert SECRET not in log_path.read_text()


def test_get_settings_turns_a_validation_error_into_names_and_problems(monkeypatch):
    monkeypatch.setenv("REDIS_URL", f"ftp://:{SECRET}@host/0")
    monkeypatch.setenv("API_PORT", "eighty")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError) as refused:
            get_settings()
    finally:
        get_settings.cache_clear()
    message = str(refused.value)
    assert "  REDIS_URL: must look like redis://" in message
    assert "  API_PORT: Input should be a valid integer" in message
    assert SECRET not in message and "eighty" not in message
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_a_message_that_quotes_its_input_has_it_hidden():
    class Probe(BaseModel):
        key: str

        @field_validator("key")
        @classmethod
        def careless(cls, value):
            raise ValueError(f"{value} is not a key")

    with pytest.raises(ValidationError) as refused:
        Probe(key=SECRET)
    assert describe_errors(refused.value).endswith("  key: <hidden> is not a key")


def test_no_check_across_settings_quotes_a_value():
    with pytest.raises(ValidationError) as refused:
        Settings(DEFAULT_PROVIDER=SECRET)
    message = describe_errors(refused.value)
    assert "DEFAULT_PROVIDER is not among PROVIDERS" in message and SECRET not in message


STRONG = "k" * 40


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "tts.example.com"])
@pytest.mark.parametrize("secret", ["dev-secret-key-change-me", "short", "changethis", ""])
def test_a_weak_key_is_refused_beyond_loopback_even_in_development(host, secret):
    with pytest.raises(ValidationError, match="SECRET_KEY must be a random value"):
        Settings(ENVIRONMENT="development", API_HOST=host, SECRET_KEY=secret)
    Settings(ENVIRONMENT="development", API_HOST=host, SECRET_KEY=STRONG)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_a_development_key_is_accepted_on_loopback(host):
    assert Settings(ENVIRONMENT="development", API_HOST=host, SECRET_KEY="").SECRET_KEY


def test_empty_lines_mean_not_set(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.delenv("ADMIN_PASSWORD")
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=\nADMIN_PASSWORD=\n")
    settings = Settings(_env_file=env_file)
    assert settings.ADMIN_PASSWORD is None
    assert settings.SECRET_KEY.get_secret_value() == "dev-secret-key-change-me"


def test_api_host_port_and_trusted_proxies_come_from_the_env_file(tmp_path, monkeypatch):
    for name in ("API_HOST", "API_PORT", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"API_HOST=0.0.0.0\nAPI_PORT=8123\nFORWARDED_ALLOW_IPS=10.0.0.5\nSECRET_KEY={STRONG}\n"
    )
    settings = Settings(_env_file=env_file)
    assert (settings.API_HOST, settings.API_PORT) == ("0.0.0.0", 8123)
    assert settings.FORWARDED_ALLOW_IPS == "10.0.0.5"
