"""Settings refused at start, said by name and never by value (values here include the Redis
password, API keys and the Cloudinary secret)."""

from __future__ import annotations

import re

import pydantic_settings
from pydantic import ValidationError

from settings.base import setting_name

# pydantic-settings' message for a value that is not the JSON its setting needs.
_UNPARSED = re.compile(r'error parsing value for field "(\w+)"')
JSON_EXPECTED = "cannot be parsed (JSON expected)"
HEADING = "invalid settings (environment or .env):\n"


class SettingsError(SystemExit):
    """Settings refused at start.

    A SystemExit, so whichever entry point reads the settings first (uvicorn importing the app,
    celery loading workers.celery_app, the CLI, the run command) ends with this message alone:
    no traceback, and no chained ValidationError, whose text shows the input values.
    """


def describe_errors(exc: ValidationError, settings_cls: type) -> str:
    """One line per bad setting: its name (as `settings_cls` reads it from the environment)
    and the problem, without the value given."""
    lines = []
    for error in exc.errors(include_url=False, include_input=True):
        # A check across settings (loc empty) names its settings in its message.
        name = setting_name(settings_cls, error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if unparsed := _UNPARSED.match(message):  # a group's setting that is not JSON
            name = setting_name(settings_cls, (*error["loc"], unparsed[1]))
            message = JSON_EXPECTED
        value = error.get("input")
        # Pydantic's own messages do not quote the input, but a validator's might.
        if isinstance(value, str) and len(value) >= 4 and value in message:
            message = message.replace(value, "<hidden>")
        lines.append(f"  {name}: {message}" if name else f"  {message}")
    return HEADING + "\n".join(lines)


def read_settings(settings_cls: type):
    """`settings_cls()`, or SettingsError naming what was refused."""
    try:
        return settings_cls()
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc, settings_cls)) from None
    except pydantic_settings.SettingsError as exc:
        # A value that is not valid JSON (PROVIDERS); pydantic-settings names the field only.
        name = _UNPARSED.search(str(exc))
        raise SettingsError(f"{HEADING}  {name[1] if name else exc}: {JSON_EXPECTED}") from None
