"""What every group of settings shares: the `.env` file, how fields are named, how a group
is read when it is one field of config.Settings.

A group is a pydantic-settings class of its own with an environment prefix (S3_, PIPER_, ...):
its field `bucket` is the setting S3_BUCKET, read from the environment or `.env`, and an error
names it so. config.Settings holds one field per group (`s3: S3Settings`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = PROJECT_ROOT / ".env"

SHARED_CONFIG = SettingsConfigDict(
    env_file=ENV_FILE,
    env_file_encoding="utf-8",
    extra="ignore",
    # Each setting's docstring is its description (FieldInfo.description), for the docs.
    use_attribute_docstrings=True,
)


def group_config(prefix: str) -> SettingsConfigDict:
    """A group's model_config: field `name` is the setting PREFIX + NAME.

    The environment name is also the field's alias, so a validation error names the setting
    as the environment does (S3_PRESIGN_TTL, not presign_ttl), and a group can be given its
    values by those names (S3Settings(S3_BUCKET=...)) as well as by field name.
    """
    return SettingsConfigDict(
        **SHARED_CONFIG,
        env_prefix=prefix,
        alias_generator=lambda name: prefix + name.upper(),
        validate_by_name=True,
        validate_by_alias=True,
    )


@cache  # a class's fields do not change: read once
def groups_of(settings_cls: type[BaseSettings]) -> dict[str, type[BaseSettings]]:
    """The fields of `settings_cls` that are groups, and their classes."""
    return {
        name: field.annotation
        for name, field in settings_cls.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings)
    }


@cache
def env_fields(settings_cls: type[BaseSettings]) -> dict[str, tuple[str, str, FieldInfo]]:
    """Every setting of `settings_cls` by its environment name: (its group's field, or "",
    its own field, its FieldInfo). A top-level field's name is its environment name."""
    groups = groups_of(settings_cls)
    found = {
        name: ("", name, field)
        for name, field in settings_cls.model_fields.items()
        if name not in groups
    }
    for group_name, group in groups.items():
        for name, field in group.model_fields.items():
            found[field.alias] = (group_name, name, field)
    return found


def setting_name(settings_cls: type[BaseSettings], loc: tuple) -> str:
    """A validation error's place as a setting's name: ("s3", "S3_BUCKET") is S3_BUCKET.
    A check across a group's settings (("s3",)) is placed nowhere: its message names them."""
    parts = [str(part) for part in loc]
    group = groups_of(settings_cls).get(parts[0]) if parts else None
    if group is not None:
        parts = parts[1:]
        if parts and parts[0] in group.model_fields:  # placed by its field name
            parts[0] = group.model_fields[parts[0]].alias
    return ".".join(parts)


class GroupsSource(PydanticBaseSettingsSource):
    """A source of config.Settings: gives each group what it does not read itself.

    A group validated as a field reads the environment and an env file itself (a BaseSettings
    is validated through its __init__). This hands it the env file Settings was given
    (Settings(_env_file=...)), and any of its settings given to Settings by environment name
    (Settings(S3_BUCKET=...)), so Settings(**environment) means what the environment means.
    """

    def __init__(self, settings_cls, given: dict[str, Any], env_file) -> None:
        super().__init__(settings_cls)
        self._given, self._env_file = given, env_file

    def get_field_value(self, field, field_name):  # every value comes from __call__
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values = {}
        for name, group in groups_of(self.settings_cls).items():
            prefix = group.model_config["env_prefix"]
            given = {key: value for key, value in self._given.items() if key.startswith(prefix)}
            values[name] = {"_env_file": self._env_file, **given}
        return values
