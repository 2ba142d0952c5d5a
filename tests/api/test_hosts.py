"""The API answers only to configured host names: the URLs it hands out are built from the Host
header when PUBLIC_BASE_URL is unset, so a forged Host must never get that far."""

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from config import Settings
from tests.helpers import bearer, completed_job_behind_the_api

DEFAULT_HOSTS = ["127.0.0.1", "localhost", "[::1]"]


def client_with(**settings) -> TestClient:
    from api.main import create_app

    return TestClient(create_app(Settings(**settings)))


@pytest.fixture
def job_id(app, service_redis, users):
    return completed_job_behind_the_api(service_redis, app.app.state.storage, "alice")


def test_a_request_naming_another_host_is_refused(app, alice, job_id):
    for host in ("evil.example", "evil.example:8000", "localhost.evil.example", ""):
        for method, path in [
            ("GET", f"/result/{job_id}"),
            ("GET", f"/result/{job_id}/audio"),
            ("GET", "/health"),
            ("POST", "/token"),
        ]:
            response = app.request(method, path, headers={**alice, "Host": host})
            assert response.status_code == 400, (host, path, response.text)
            assert "evil" not in response.text


def test_result_urls_name_the_host_the_request_came_in_on(app, alice, job_id):
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000", "testserver"):
        response = app.get(f"/result/{job_id}", headers={**alice, "Host": host})
        assert response.status_code == 200, (host, response.text)
        result = response.json()
        assert result["url"] == f"http://{host}/result/{job_id}/audio"
        assert result["blocks"][1]["url"] == f"http://{host}/result/{job_id}/block/1/audio"


def test_by_default_only_loopback_names_are_allowed(service_redis, users, monkeypatch):
    monkeypatch.delenv("ALLOWED_HOSTS")
    assert Settings(_env_file=None).ALLOWED_HOSTS == DEFAULT_HOSTS
    with client_with(_env_file=None) as client:
        assert client.get("/health").status_code == 400  # "testserver" is not among them
        for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST"):
            assert client.get("/health", headers={"Host": host}).status_code == 200, host


def test_with_a_public_base_url_urls_use_it_and_its_host_is_allowed(service_redis, users):
    with client_with(PUBLIC_BASE_URL="https://tts.example.com/") as client:
        job_id = completed_job_behind_the_api(service_redis, client.app.state.storage, "alice")
        token = bearer(client, "alice")
        for host in ("tts.example.com", "testserver"):
            result = client.get(f"/result/{job_id}", headers={**token, "Host": host}).json()
            assert result["url"] == f"https://tts.example.com/result/{job_id}/audio"
        assert client.get("/health", headers={"Host": "other.example.com"}).status_code == 400


@pytest.mark.parametrize(
    "value, hosts",
    [
        ("tts.example.com, *.cdn.example.com", ["tts.example.com", "*.cdn.example.com"]),
        ('["tts.example.com", "[::1]"]', ["tts.example.com", "[::1]"]),
        ("*", ["*"]),
    ],
)
def test_allowed_hosts_are_a_list_or_comma_separated(monkeypatch, value, hosts):
    monkeypatch.setenv("ALLOWED_HOSTS", value)
    settings = Settings(_env_file=None)
    assert hosts == settings.ALLOWED_HOSTS


def test_a_pattern_starlette_cannot_match_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "tts.*.example.com")
    with pytest.raises(ValidationError) as error:
        Settings(_env_file=None)
    message = str(error.value)
    assert "ALLOWED_HOSTS" in message and "'tts.*.example.com' is not a host name" in message
    assert "*.example.com" in message
