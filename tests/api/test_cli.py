import os
import subprocess
import sys

from config import PROJECT_ROOT
from utils.embedded_redis import free_port


def run_cli(*args, password="carol-password", env=None):
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        input=password + "\n",
        text=True,
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=60,
        env=env,
    )


def test_add_user_creates_a_user_who_can_log_in(app, service_redis):
    result = run_cli("add-user", "carol", "--password-stdin")
    assert result.returncode == 0, result.stderr
    assert "carol-password" not in result.stdout + result.stderr
    response = app.post("/token", data={"username": "carol", "password": "carol-password"})
    assert response.status_code == 200


def test_add_user_refuses_a_short_password_and_a_bad_name():
    assert "at least 8" in run_cli("add-user", "dave", "--password-stdin", password="short").stderr
    assert "username" in run_cli("add-user", "no spaces", "--password-stdin").stderr


def test_add_user_says_where_it_looked_when_redis_is_down_without_the_password():
    url = f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0"  # nothing listens there
    result = run_cli("add-user", "erin", "--password-stdin", env={**os.environ, "REDIS_URL": url})
    assert result.returncode == 1
    assert f"cannot reach Redis at redis://:**@127.0.0.1:{url.rsplit(':', 1)[1]}" in result.stderr
    assert "s3cret-pw" not in result.stderr
