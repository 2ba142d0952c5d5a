"""The configuration page's tables, made from the settings classes by docs/hooks/."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tests.docs.examples import ROOT

_spec = importlib.util.spec_from_file_location(
    "settings_tables", ROOT / "docs" / "hooks" / "settings_tables.py"
)
hook = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hook)


def env_example_names() -> list[str]:
    """Every variable .env.example sets or shows commented out (`# NAME=...`)."""
    text = (ROOT / ".env.example").read_text()
    return sorted(set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE)))


def configuration_page() -> str:
    page = (ROOT / "docs" / "configuration.md").read_text()
    assert hook.MARKER in page
    return page.replace(hook.MARKER, hook.settings_markdown())


def test_every_variable_of_env_example_is_on_the_configuration_page():
    page = configuration_page()
    names = env_example_names()
    assert len(names) > 30
    assert [name for name in names if f"`{name}`" not in page] == []


def test_every_setting_has_a_row():
    import config

    names = hook.env_names(config.Settings)
    assert len(names) == len(set(names))
    for field in config.Settings.model_fields:
        if hook._settings_class(config.Settings.model_fields[field].annotation) is None:
            assert field in names


class S3Settings(BaseSettings):
    """Where audio is kept on S3.

    More text that is not the group's introduction."""

    model_config = SettingsConfigDict(env_prefix="S3_")

    bucket: str | None = Field(default=None, description="The bucket's name")
    secret_access_key: SecretStr | None = Field(default=None, description="Its secret")
    presign_ttl: int = Field(default=3600, description="Seconds a presigned URL is valid")


class GroupedSettings(BaseSettings):
    JOB_TTL: int = Field(default=604800, description="Seconds job state is kept")
    DATA_DIR: Path = Field(default=ROOT / "data", description="Stored audio")
    SECRET_KEY: SecretStr = Field(default=SecretStr("placeholder"), description="Signs tokens")
    s3: S3Settings = Field(default_factory=S3Settings)


def test_a_group_is_a_table_of_its_prefixed_names():
    assert hook.env_names(GroupedSettings) == [
        "JOB_TTL",
        "DATA_DIR",
        "SECRET_KEY",
        "S3_BUCKET",
        "S3_SECRET_ACCESS_KEY",
        "S3_PRESIGN_TTL",
    ]
    text = hook.render(GroupedSettings, ROOT)
    assert "### General\n" in text
    assert "### S3\n\nVariables `S3_*`. Where audio is kept on S3.\n" in text
    assert "| `JOB_TTL` | integer | `604800` | Seconds job state is kept |" in text
    assert "| `DATA_DIR` | path | `./data` | Stored audio |" in text  # relative to the root
    assert "| `SECRET_KEY` | secret |  | Signs tokens |" in text  # never its default
    assert "placeholder" not in text
    assert "| `S3_BUCKET` | string | unset | The bucket's name |" in text
    assert "| `S3_SECRET_ACCESS_KEY` | secret |  | Its secret |" in text


def test_a_description_is_literal_text_outside_code():
    class Hosts(BaseSettings):
        ALLOWED_HOSTS: str = Field(default="", description="*.example.com or * for <any>, `a*`")

    assert "| \\*.example.com or \\* for &lt;any>, `a*` |" in hook.render(Hosts, ROOT)


def test_a_flat_field_without_description_has_an_empty_cell():
    class Flat(BaseSettings):
        MAX_BLOCKS: int = 200
        ALLOWED_HOSTS: list[str] = ["127.0.0.1"]

    text = hook.render(Flat, ROOT)
    assert "| `MAX_BLOCKS` | integer | `200` |  |" in text
    assert '| `ALLOWED_HOSTS` | list of strings | `["127.0.0.1"]` |  |' in text
