"""Long-lived API keys: shown once, stored hashed, accepted wherever a token is, revoked at once."""

from __future__ import annotations

import logging
import os
import time

import httpx

from tests.api.test_access_log import api_server  # noqa: F401 (a fixture: the app under uvicorn)
from tests.api.test_cli import run_cli
from tests.api.test_hostile_input import client_with
from utils.auth.api_keys import KEY_PREFIX, MAX_KEYS_PER_USER, ApiKeys, digest_of
from utils.auth.users import UserStore
from utils.embedded_redis import free_port
from utils.names import PREFIX, api_key_key

JOB = {"blocks": [{"text": "Hello."}]}
SOME_JOB = "8a1b6d3e-5c52-4c1e-9a4e-3f1c2b7d9e10"
BAD_TOKEN = "missing, invalid or expired token"


def new_key(app, headers, **body) -> dict:
    response = app.post("/keys", headers=headers, json=body or None)
    assert response.status_code == 201, response.text
    return response.json()


def as_bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_the_key_is_shown_once_and_never_listed(app, alice):
    created = app.post("/keys", headers=alice, json={"name": "laptop"})
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    assert set(body) == {"id", "name", "key", "prefix", "created_at"}
    assert body["name"] == "laptop"
    assert body["key"].startswith(KEY_PREFIX) and len(body["key"]) >= len(KEY_PREFIX) + 43
    assert body["key"].startswith(body["prefix"].rstrip("…"))
    listed = app.get("/keys", headers=alice)
    assert listed.status_code == 200
    [shown] = listed.json()
    assert shown == {
        "id": body["id"],
        "name": "laptop",
        "prefix": body["prefix"],
        "created_at": body["created_at"],
        "last_used_at": None,
    }
    assert body["key"] not in listed.text and digest_of(body["key"]) not in listed.text


def test_a_key_needs_no_body_and_refuses_a_bad_name(app, alice):
    assert new_key(app, alice)["name"] is None
    for name, reason in (("x" * 65, "at most"), ("", "at least"), ("a\tb", "printable")):
        response = app.post("/keys", headers=alice, json={"name": name})
        assert response.status_code == 422, response.text
        problem = response.json()["detail"][0]
        assert problem["field"] == "name" and reason in problem["msg"]
    for bad in ({"name": 7}, {"name": "ok", "scopes": ["all"]}):
        assert app.post("/keys", headers=alice, json=bad).status_code == 422


def test_a_key_works_like_a_token(app, alice):
    key = as_bearer(new_key(app, alice)["key"])
    submitted = app.post("/tts", headers=key, json=JOB)
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["job_id"]
    for headers in (key, alice):  # the same user's job, by either credential
        status = app.get(f"/status/{job_id}", headers=headers)
        assert status.status_code == 200 and status.json()["job_id"] == job_id
    # The audio route's owner check (get_audio_owner) takes keys too: not ready, not refused.
    assert app.get(f"/result/{job_id}/audio", headers=key).status_code == 409
    assert app.get("/keys", headers=key).json()[0]["last_used_at"] is not None


def test_another_users_key_sees_none_of_the_first_users_jobs_or_keys(app, alice, bob):
    alices = new_key(app, alice)
    job_id = app.post("/tts", headers=as_bearer(alices["key"]), json=JOB).json()["job_id"]
    bobs = as_bearer(new_key(app, bob)["key"])
    assert app.get(f"/status/{job_id}", headers=bobs).status_code == 404
    assert app.get(f"/result/{job_id}/audio", headers=bobs).status_code == 404
    assert alices["id"] not in {k["id"] for k in app.get("/keys", headers=bobs).json()}
    assert app.delete(f"/keys/{alices['id']}", headers=bobs).status_code == 404
    assert app.get("/keys", headers=as_bearer(alices["key"])).status_code == 200  # still alive


def test_a_revoked_key_is_refused_at_once(app, alice):
    created = new_key(app, alice)
    key = as_bearer(created["key"])
    assert app.get("/tts/providers", headers=key).status_code == 200
    assert app.delete(f"/keys/{created['id']}", headers=key).status_code == 204
    refused = app.get("/tts/providers", headers=key)
    assert refused.status_code == 401 and refused.json()["detail"] == BAD_TOKEN
    assert refused.headers["www-authenticate"] == "Bearer"
    assert app.get("/keys", headers=alice).json() == []
    assert app.delete(f"/keys/{created['id']}", headers=alice).status_code == 404


def test_an_unknown_key_is_refused_like_a_bad_token(app, users):
    unknown = as_bearer(KEY_PREFIX + "A" * 43)
    for method, path in (("GET", f"/status/{SOME_JOB}"), ("POST", "/tts"), ("GET", "/keys")):
        response = app.request(method, path, headers=unknown, json=JOB)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["detail"] == BAD_TOKEN
    assert app.get(f"/result/{SOME_JOB}/audio", headers=unknown).status_code == 401


def test_keys_are_stored_hashed(app, alice, service_redis):
    created = new_key(app, alice, name="ci")
    app.get("/tts/providers", headers=as_bearer(created["key"]))  # and used once
    plain = created["key"]
    stored = []
    for name in service_redis.scan_iter(f"{PREFIX}:*"):
        stored.append(name)
        kind = service_redis.type(name)
        if kind == "hash":
            stored.extend(f"{k}={v}" for k, v in service_redis.hgetall(name).items())
        elif kind == "string":
            stored.append(service_redis.get(name))
    assert stored and not any(plain in item for item in stored)
    assert not any(plain[len(KEY_PREFIX) :] in item for item in stored)
    assert service_redis.hget(api_key_key(digest_of(plain)), "owner") == "alice"


def test_a_key_never_reaches_the_logs(api_server, service_redis, caplog):  # noqa: F811
    UserStore(service_redis).set_password("alice", "alice-password")
    key = ApiKeys(service_redis).create("alice").key
    with caplog.at_level(logging.DEBUG):
        for headers, path in (
            (as_bearer(key), "/tts/providers"),
            (as_bearer(key), f"/status/{SOME_JOB}"),
            ({}, f"/tts/providers?api_key={key}&key={key}"),
        ):
            httpx.get(f"{api_server}{path}", headers=headers, timeout=10)
        # the access log is written by the server's thread, after the client has its answer
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            sum(r.name == "uvicorn.access" for r in caplog.records) < 3
        ):
            time.sleep(0.02)
    # Every record of the service's side; the test's own HTTP client (httpx) logs its URLs.
    lines = [r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any("/tts/providers" in line for line in lines), lines
    assert not any(key[len(KEY_PREFIX) :] in line for line in lines), lines


def test_a_keys_requests_count_against_its_user_with_the_tokens(service_redis, alice, bob):
    with client_with(RATE_LIMIT_SUBMIT="2/minute") as app:
        key = as_bearer(new_key(app, alice)["key"])
        codes = [app.post("/tts", headers=h, json=JOB).status_code for h in (alice, key, key)]
        assert codes == [202, 202, 429]
        assert app.post("/tts", headers=alice, json=JOB).status_code == 429
        assert app.post("/tts", headers=bob, json=JOB).status_code == 202  # bob's own count


def test_a_user_may_hold_only_so_many_keys(app, alice):
    for _ in range(MAX_KEYS_PER_USER):
        new_key(app, alice)
    refused = app.post("/keys", headers=alice)
    assert refused.status_code == 409 and "revoke one" in refused.json()["detail"]
    first = app.get("/keys", headers=alice).json()[0]["id"]
    assert app.delete(f"/keys/{first}", headers=alice).status_code == 204
    new_key(app, alice)


def test_last_use_is_written_at_most_once_a_minute(service_redis):
    keys = ApiKeys(service_redis)
    new = keys.create("alice")
    assert keys.owner_of(new.key) == "alice"
    [first] = keys.list("alice")
    assert first["last_used_at"] is not None
    time.sleep(0.01)
    keys.owner_of(new.key)
    assert keys.list("alice")[0]["last_used_at"] == first["last_used_at"]
    assert ApiKeys(service_redis, touch_interval_s=0).owner_of(new.key) == "alice"
    assert keys.list("alice")[0]["last_used_at"] > first["last_used_at"]


def test_the_docs_say_a_key_is_accepted_where_a_token_is(app):
    schema = app.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert (
        schemes["APIKey"]["scheme"] == "bearer" and "POST /keys" in schemes["APIKey"]["description"]
    )
    for path, method in (("/tts", "post"), ("/keys", "get"), ("/status/{job_id}", "get")):
        security = schema["paths"][path][method]["security"]
        assert {"APIKey": []} in security and {"OAuth2PasswordBearer": []} in security


def test_the_cli_creates_lists_and_revokes_keys(app, users):
    created = run_cli("create-key", "alice", "--name", "backup job")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith(KEY_PREFIX) and "shown this once" in created.stderr
    assert app.get("/tts/providers", headers=as_bearer(key)).status_code == 200
    listed = run_cli("list-keys", "alice")
    assert listed.returncode == 0 and key not in listed.stdout
    [line] = listed.stdout.splitlines()
    key_id = line.split()[0]
    assert line.endswith("backup job") and key[:11] in line
    revoked = run_cli("revoke-key", "alice", key_id)
    assert revoked.returncode == 0, revoked.stderr
    assert app.get("/tts/providers", headers=as_bearer(key)).status_code == 401
    assert run_cli("revoke-key", "alice", key_id).returncode == 1
    assert run_cli("list-keys", "alice").stdout == ""
    assert "no user" in run_cli("create-key", "nobody").stderr


def test_the_cli_says_where_it_looked_when_redis_is_down():
    url = f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0"
    for args in (("create-key", "alice"), ("list-keys", "alice"), ("revoke-key", "alice", "x")):
        result = run_cli(*args, env={**os.environ, "REDIS_URL": url})
        assert result.returncode == 1
        assert "cannot reach Redis at redis://:**@127.0.0.1:" in result.stderr
        assert "s3cret-pw" not in result.stderr
