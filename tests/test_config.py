"""Settings: refused with their names and never their values; who may use a weak key; .env."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from typing import get_args

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from config import (
    PROJECT_ROOT,
    ProviderConfig,
    Settings,
    SettingsError,
    describe_errors,
    get_settings,
)
from scripts.commands import api_command, worker_command
from settings.base import env_fields
from settings.provider_types import PROVIDER_TYPES, AccountType
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


def test_a_group_of_settings_reads_its_prefix_from_the_environment_and_the_env_file(
    tmp_path, monkeypatch
):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "S3_BUCKET=from-the-file\nWEBHOOK_TIMEOUT_S=7\nWEBHOOK_ALLOWED_HOSTS=a.example, B.example\n"
        f"PIPER_VOICE_DIR={tmp_path / 'voices'}\n"
    )
    monkeypatch.setenv("S3_PREFIX", "from-the-environment")
    monkeypatch.setenv("WEBHOOK_TIMEOUT_S", "9")  # the environment beats the file
    settings = Settings(_env_file=env_file)
    assert (settings.s3.bucket, settings.s3.prefix) == ("from-the-file", "from-the-environment")
    assert settings.webhook.timeout_s == 9
    assert settings.webhook.allowed_hosts == ["a.example", "b.example"]
    assert settings.piper_catalogue.directory == tmp_path / "voices"
    assert settings.PROVIDERS["piper"].catalogue.directory == tmp_path / "voices"
    # Given by its environment name, a group's setting beats both; without the file, unset.
    assert Settings(_env_file=env_file, S3_BUCKET="given").s3.bucket == "given"
    assert Settings(_env_file=None).s3.bucket is None
    assert Settings(_env_file=None).value_of("S3_PREFIX") == "from-the-environment"


def test_a_refused_setting_of_a_group_is_named_as_the_environment_names_it(monkeypatch):
    monkeypatch.setenv("S3_PRESIGN_TTL", str(8 * 24 * 3600))
    monkeypatch.setenv("SPEECH_VOICES", "{not json")
    monkeypatch.setenv("WEBHOOK_ALLOWED_HOSTS", f'["{SECRET}"')
    monkeypatch.setenv("CLOUDINARY_URL", BAD_SETTINGS["CLOUDINARY_URL"])
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError) as refused:
            get_settings()
    finally:
        get_settings.cache_clear()
    message = str(refused.value)
    assert "  S3_PRESIGN_TTL: Input should be less than or equal to 604800" in message
    assert "  SPEECH_VOICES: cannot be parsed (JSON expected)" in message
    assert "  WEBHOOK_ALLOWED_HOSTS: " in message
    assert "  CLOUDINARY_URL: must look like " in message
    assert SECRET not in message


def test_every_setting_has_a_description_and_a_group_its_prefix():
    fields = env_fields(Settings)
    groups = {name for name, field in Settings.model_fields.items() if field.description}
    assert {"s3", "cloudinary", "piper", "speech", "rate_limit", "webhook"} <= groups
    for name, (group, attribute, field) in fields.items():
        assert field.description, name
        if group:
            prefix = Settings.model_fields[group].annotation.model_config["env_prefix"]
            assert name == prefix + attribute.upper()
    some = {"S3_BUCKET", "CLOUDINARY_URL", "PIPER_VOICES_URL", "SPEECH_VOICES", "JOB_TTL"}
    assert some | {"RATE_LIMIT_SUBMIT", "WEBHOOK_ALLOWED_HOSTS", "ALLOWED_HOSTS"} <= set(fields)


def test_provider_types_come_from_one_table():
    from workers.providers import IMPLEMENTATIONS, LOCAL_TYPES

    assert get_args(ProviderConfig.model_fields["type"].annotation) == tuple(PROVIDER_TYPES)
    assert set(IMPLEMENTATIONS) == set(PROVIDER_TYPES) and {"piper", "kokoro"} == LOCAL_TYPES
    assert set(get_args(AccountType)) == set(PROVIDER_TYPES) - LOCAL_TYPES


def test_settings_import_nothing_above_them():
    above = ("api", "workers", "utils", "scripts", "config")
    for path in [PROJECT_ROOT / "config.py", *(PROJECT_ROOT / "settings").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                assert top not in above, (path, name)
