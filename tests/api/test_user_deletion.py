"""An administrator deletes a user, through the API or the CLI: their credentials are refused at
once, and their jobs (every key in Redis), stored audio, API keys, provider accounts and
webhook secret go; nothing of any other user's is touched."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from config import ProviderConfig
from tests.api.test_api_keys import as_bearer, new_key
from tests.api.test_cli import run_cli
from tests.helpers import bearer, wait_for_job
from utils.auth.api_keys import digest_of
from utils.names import (
    PREFIX,
    active_jobs_key,
    api_key_key,
    user_accounts_key,
    user_api_keys_key,
    user_jobs_key,
    user_key,
    webhook_secret_key,
)

pytestmark = pytest.mark.pipeline

JOB = {"blocks": [{"text": "Hello there."}, {"text": "Goodbye."}]}


def a_users_things(app, headers, username: str) -> dict:
    """A user with one finished job (made by the real worker), an API key, a provider account
    and a webhook secret; what to look for afterwards."""
    submitted = app.post("/tts", headers=headers, json=JOB)
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["job_id"]
    assert wait_for_job(app, job_id, headers)["status"] == "completed"
    key = new_key(app, headers)["key"]
    config = ProviderConfig(type="openai", api_key=SecretStr("sk-own-0123456789"), concurrency=2)
    app.app.state.accounts.save(username, "mine", config)
    assert app.get("/webhooks/secret", headers=headers).status_code == 200
    return {"job_id": job_id, "key": key, "token": headers}


def redis_keys_of(client, username: str, things: dict) -> set[str]:
    """Every key in Redis that holds something of the user's."""
    found = set(client.scan_iter(f"{PREFIX}:job:{things['job_id']}*"))
    found |= set(client.scan_iter(f"{PREFIX}:user:{username}*"))
    found |= {k for k in [api_key_key(digest_of(things["key"]))] if client.exists(k)}
    return found


def audio_of(app, job_id: str) -> list[Path]:
    return [p for p in (app.app.state.storage.root / "jobs" / job_id).rglob("*") if p.is_file()]


def snapshot(client, username: str, things: dict) -> dict:
    return {
        key: (client.type(key), client.dump(key))
        for key in sorted(redis_keys_of(client, username, things))
    }


def check_all_gone(app, client, username: str, things: dict) -> None:
    assert redis_keys_of(client, username, things) == set()
    assert client.zscore(active_jobs_key(), things["job_id"]) is None
    assert audio_of(app, things["job_id"]) == []
    for headers in (things["token"], as_bearer(things["key"])):
        assert app.get("/tts/providers", headers=headers).status_code == 401


def check_untouched(app, client, things: dict, before: dict, audio_before: list[Path]) -> None:
    assert snapshot(client, "bob", things) == before
    assert audio_of(app, things["job_id"]) == audio_before
    for headers in (things["token"], as_bearer(things["key"])):
        status = app.get(f"/status/{things['job_id']}", headers=headers)
        assert status.status_code == 200 and status.json()["status"] == "completed"
    assert app.get(f"/result/{things['job_id']}/audio", headers=things["token"]).status_code == 200


def test_the_admin_deletes_a_user_and_all_that_is_theirs(app, alice, bob, worker, service_redis):
    alices = a_users_things(app, alice, "alice")
    bobs = a_users_things(app, bob, "bob")
    assert audio_of(app, alices["job_id"]) and redis_keys_of(service_redis, "alice", alices)
    for key in (user_jobs_key("alice"), user_accounts_key("alice"), webhook_secret_key("alice")):
        assert service_redis.exists(key), key
    bobs_before, bobs_audio = snapshot(service_redis, "bob", bobs), audio_of(app, bobs["job_id"])
    n_audio = len(audio_of(app, alices["job_id"]))

    # Only the administrator (ADMIN_USERNAME) may; bob may not, not even for a missing user.
    for name in ("alice", "nobody"):
        refused = app.delete(f"/users/{name}", headers=bob)
        assert refused.status_code == 403 and "administrator" in refused.json()["detail"]
    assert service_redis.exists(user_key("alice"))

    admin = bearer(app, "admin")
    deleted = app.delete("/users/alice", headers=admin)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {
        "username": "alice",
        "jobs": 1,
        "audio_objects": n_audio,
        "api_keys": 1,
        "accounts": 1,
        "audio_left": 0,
    }
    check_all_gone(app, service_redis, "alice", alices)
    check_untouched(app, service_redis, bobs, bobs_before, bobs_audio)
    assert app.delete("/users/alice", headers=admin).status_code == 404
    assert app.delete("/users/admin", headers=admin).status_code == 409

    # Made again under the same name: a new user, with nothing of the old one.
    app.app.state.users.set_password("alice", "alice-password")
    again = bearer(app, "alice")
    assert app.get("/jobs", headers=again).json()["jobs"] == []
    assert app.get(f"/status/{alices['job_id']}", headers=again).status_code == 404
    assert app.get("/keys", headers=again).json() == []
    assert app.get("/accounts", headers=again).json() == []
    for headers in (alices["token"], as_bearer(alices["key"])):
        assert app.get("/tts/providers", headers=headers).status_code == 401


def test_the_cli_deletes_a_user_and_all_that_is_theirs(app, alice, bob, worker, service_redis):
    alices = a_users_things(app, alice, "alice")
    bobs = a_users_things(app, bob, "bob")
    bobs_before, bobs_audio = snapshot(service_redis, "bob", bobs), audio_of(app, bobs["job_id"])

    result = run_cli("delete-user", "alice")
    assert result.returncode == 0, result.stderr
    assert "user alice deleted: 1 jobs" in result.stdout and "1 API keys" in result.stdout
    check_all_gone(app, service_redis, "alice", alices)
    assert not service_redis.exists(user_api_keys_key("alice"))
    check_untouched(app, service_redis, bobs, bobs_before, bobs_audio)

    again = run_cli("delete-user", "alice")
    assert again.returncode == 1 and "no user 'alice'" in again.stderr
