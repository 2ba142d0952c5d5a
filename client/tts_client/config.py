"""Where the `tts` command keeps its login: $XDG_CONFIG_HOME/tts/config.json (else
~/.config/tts/config.json), readable by its owner alone (0600, in a 0700 folder).

It holds the service's URL and an API key, never a password: `tts login` with a username and
password makes an API key for the command (POST /keys) and keeps that, so the login can be
revoked on its own (DELETE /keys/{id}). TTS_URL and TTS_API_KEY override the file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8000"


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tts" / "config.json"


def load() -> dict:
    path = config_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        raise ValueError(f"{path} is not valid JSON: run `tts login` again") from None
    return data if isinstance(data, dict) else {}


def save(data: dict) -> Path:
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Created 0600 from the start (never readable by others, not even for an instant), and
    # put in place whole.
    partial = path.with_name(path.name + ".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2)
    os.chmod(partial, 0o600)  # an older file of that name may have had other bits
    partial.replace(path)
    return path


@dataclass(frozen=True)
class Login:
    url: str
    api_key: str | None


def current(url: str | None = None) -> Login:
    """The URL and API key to use: the option, else the environment, else the file."""
    stored = load()
    return Login(
        url=(url or os.environ.get("TTS_URL") or stored.get("url") or DEFAULT_URL).rstrip("/"),
        api_key=os.environ.get("TTS_API_KEY") or stored.get("api_key"),
    )
