import subprocess
import sys

from config import PROJECT_ROOT


def run_cli(*args, password="carol-password"):
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        input=password + "\n",
        text=True,
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=60,
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
