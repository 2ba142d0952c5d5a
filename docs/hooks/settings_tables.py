"""MkDocs hook: the configuration page's tables, generated from `config.Settings`.

configuration.md holds the marker `<!-- settings-tables -->`; at build time it is replaced by
one table per group of settings, so the page lists exactly what the code reads.

How names are found (the contract of config.py):

- a top-level field of `Settings` is an environment variable of the same name (`JOB_TTL`);
- a field whose annotation is a pydantic-settings `BaseSettings` subclass is a group: its
  variables are the group's `model_config["env_prefix"]` + the sub-field's name in upper case
  (`S3_` + `bucket` -> `S3_BUCKET`);
- each field's `description` is its meaning (empty where a field has none).

Secrets (`SecretStr`) show no default. Paths under the project root are shown relative to it.
"""

from __future__ import annotations

import enum
import json
import sys
import types
import typing
from pathlib import Path

MARKER = "<!-- settings-tables -->"
PAGE = "configuration.md"
ROOT = Path(__file__).resolve().parents[2]


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != PAGE or MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, settings_markdown())


def settings_markdown() -> str:
    """The tables, for the Settings class of the checkout this hook belongs to."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import config

    return render(config.Settings, getattr(config, "PROJECT_ROOT", ROOT))


class Row(typing.NamedTuple):
    name: str
    type: str
    default: str
    description: str


def env_groups(settings_cls) -> list[tuple[str, str, list[Row]]]:
    """(title, intro, rows) for the top-level settings, then for each group, in field order."""
    top: list[Row] = []
    groups: list[tuple[str, str, list[Row]]] = []
    for name, field in settings_cls.model_fields.items():
        group = _settings_class(field.annotation)
        if group is None:
            top.append(_row(name, field))
            continue
        prefix = group.model_config.get("env_prefix", "") or ""
        rows = [
            _row(prefix + sub.upper(), sub_field) for sub, sub_field in group.model_fields.items()
        ]
        doc = (field.description or (group.__doc__ or "")).strip()
        intro = f"Variables `{prefix}*`." if prefix else ""
        if doc:
            intro = f"{intro} {doc.split(chr(10) * 2)[0]}".replace("\n", " ").strip()
        groups.append((name.replace("_", " ").capitalize(), intro, rows))
    result = [("General", "", top)] if top else []
    return result + groups


def env_names(settings_cls) -> list[str]:
    return [row.name for _, _, rows in env_groups(settings_cls) for row in rows]


def render(settings_cls, project_root: Path = ROOT) -> str:
    global _PROJECT_ROOT
    _PROJECT_ROOT = Path(project_root)
    parts = []
    for title, intro, rows in env_groups(settings_cls):
        parts.append(f"### {title}\n")
        if intro:
            parts.append(f"{intro}\n")
        parts.append("| Variable | Type | Default | Description |\n|---|---|---|---|")
        for row in rows:
            cells = (f"`{row.name}`", row.type, row.default, row.description)
            parts.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        parts.append("")
    return "\n".join(parts)


_PROJECT_ROOT = ROOT


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _settings_class(annotation):
    """The BaseSettings subclass a field holds (also as `X | None`), else None."""
    from pydantic_settings import BaseSettings

    for candidate in (annotation, *_non_none_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseSettings):
            return candidate
    return None


def _non_none_args(annotation) -> list:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return []


def _row(name: str, field) -> Row:
    secret = _is_secret(field.annotation)
    return Row(
        name=name,
        type="secret" if secret else _type_name(field.annotation),
        default="" if secret else _default(field),
        description=_prose(field.description or ""),
    )


def _prose(text: str) -> str:
    """A description as literal text: outside `code`, * and < mean nothing to Markdown."""
    parts = text.strip().split("`")
    for i in range(0, len(parts), 2):  # the even parts are outside code spans
        parts[i] = parts[i].replace("*", "\\*").replace("<", "&lt;")
    return "`".join(parts)


def _is_secret(annotation) -> bool:
    from pydantic import SecretStr

    return annotation is SecretStr or SecretStr in _non_none_args(annotation)


def _type_name(annotation) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        named = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(named)
    if origin is typing.Literal:
        return " or ".join(f"`{a}`" for a in args)
    if origin in (list, tuple, set, frozenset):
        return f"list of {_type_name(args[0])}s" if args else "list"
    if origin is dict:
        return "JSON object"
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return " or ".join(f"`{m.value}`" for m in annotation)
        if issubclass(annotation, Path):
            return "path"
        plain = {bool: "boolean", int: "integer", float: "number", str: "string"}
        if annotation in plain:
            return plain[annotation]
        if hasattr(annotation, "model_fields"):
            return "JSON object"
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _default(field) -> str:
    from pydantic_core import PydanticUndefined

    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None:
        return "unset"
    if isinstance(value, Path):
        return f"`{_shown_path(value)}`"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f"`{value}`" if value else "empty"
    if isinstance(value, int | float):
        return f"`{value}`"
    return f"`{json.dumps(_plain(value))}`"


def _shown_path(path: Path) -> str:
    try:
        return "./" + path.relative_to(_PROJECT_ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def _plain(value):
    """JSON-able, with models as written (only what was set, as in `.env`)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return _shown_path(value)
    return value
