"""The client package against the running service: a real uvicorn on loopback (served) and
the session's real Celery worker."""

from __future__ import annotations

import pytest
from tts_client.cli import app
from typer.testing import CliRunner

from tests.helpers import served


@pytest.fixture
def service_url(service_redis, users, worker):
    from api.main import create_app

    with served(create_app()) as url:
        yield url


@pytest.fixture
def tts(tmp_path, monkeypatch):
    """Runs `tts ARGS...` with its own config folder; (exit code, stdout, stderr)."""
    monkeypatch.delenv("TTS_URL", raising=False)
    monkeypatch.delenv("TTS_API_KEY", raising=False)
    runner = CliRunner()
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "COLUMNS": "120"}

    def run(*args: str, input: str | None = None, **extra_env: str):
        result = runner.invoke(app, list(args), input=input, env={**env, **extra_env})
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    run.config = tmp_path / "config" / "tts" / "config.json"
    return run
