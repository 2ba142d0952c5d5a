"""Credentials die with what they were issued for: a token with the password it was issued
under, a token or API key with its user (a user made again under the same name is another)."""

from __future__ import annotations

import time

from jose import jwt

from tests.api.test_api_keys import as_bearer, new_key
from tests.api.test_cli import run_cli
from tests.helpers import bearer
from utils.auth.api_keys import ApiKeys, digest_of
from utils.auth.credentials import (
    KEY_USER_GONE,
    LEGACY_TOKEN,
    PASSWORD_CHANGED,
    TOKEN_USER_GONE,
)
from utils.auth.passwords import hash_password
from utils.auth.users import UserStore
from utils.names import api_key_key, user_api_keys_key, user_key

SECRET = "test-secret-key-that-is-long-enough-0123456789"
PROVIDERS = "/tts/providers"


def refusal(app, headers) -> str:
    response = app.get(PROVIDERS, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    return response.json()["detail"]


def test_a_token_from_before_a_password_change_is_refused_after_it(app, users, alice, bob):
    key = as_bearer(new_key(app, alice)["key"])
    users.set_password("alice", "alice-new-password")
    assert refusal(app, alice) == PASSWORD_CHANGED
    assert "the password changed" in PASSWORD_CHANGED
    # A token for the new password works; the API key, a credential of its own, still works.
    fresh = app.post("/token", data={"username": "alice", "password": "alice-new-password"})
    assert fresh.status_code == 200
    assert app.get(PROVIDERS, headers=as_bearer(fresh.json()["access_token"])).status_code == 200
    assert app.get(PROVIDERS, headers=key).status_code == 200
    assert app.get(PROVIDERS, headers=bob).status_code == 200  # another user's token: untouched


def test_the_cli_changing_a_password_revokes_the_users_tokens(app, users, alice):
    result = run_cli("add-user", "alice", "--password-stdin", password="alice-cli-password")
    assert result.returncode == 0, result.stderr
    assert refusal(app, alice) == PASSWORD_CHANGED


def test_the_admin_password_from_the_environment_revokes_tokens_only_when_it_changes(app):
    admin = bearer(app, "admin")
    users = app.app.state.users
    users.ensure("admin", "admin-password")  # a restart with the same ADMIN_PASSWORD
    assert app.get(PROVIDERS, headers=admin).status_code == 200
    users.ensure("admin", "another-admin-password")  # a restart with a new one
    assert refusal(app, admin) == PASSWORD_CHANGED


def test_a_token_of_a_user_deleted_and_made_again_is_refused(app, users, alice, service_redis):
    # Deleted as a hand-made deletion would (the user's hash alone), then made again.
    service_redis.delete(user_key("alice"))
    assert refusal(app, alice) == TOKEN_USER_GONE
    users.set_password("alice", "alice-password")  # the same name, the same password
    assert refusal(app, alice) == TOKEN_USER_GONE
    assert app.get(PROVIDERS, headers=bearer(app, "alice")).status_code == 200


def test_an_api_key_of_a_user_deleted_and_made_again_is_refused(app, users, alice, service_redis):
    key = as_bearer(new_key(app, alice)["key"])
    service_redis.delete(user_key("alice"))
    users.set_password("alice", "alice-password")
    assert refusal(app, key) == KEY_USER_GONE
    assert app.get("/keys", headers=bearer(app, "alice")).status_code == 200


def test_a_user_made_again_is_another_uid(users):
    first = users.identity("alice")
    users.redis.delete(user_key("alice"))
    assert users.identity("alice") is None
    users.set_password("alice", "alice-password")
    again = users.identity("alice")
    assert again.uid != first.uid and again.cred_version == 1
    users.set_password("alice", "alice-password-2")
    assert users.identity("alice") == again.__class__("alice", again.uid, 2)


def test_a_token_without_uid_and_version_is_refused_once(app, users):
    legacy = jwt.encode({"sub": "alice", "exp": int(time.time()) + 600}, SECRET, "HS256")
    assert refusal(app, {"Authorization": f"Bearer {legacy}"}) == LEGACY_TOKEN
    assert "sign in again" in LEGACY_TOKEN
    assert app.get(PROVIDERS, headers=bearer(app, "alice")).status_code == 200


def test_a_user_stored_before_uids_gets_one_and_keeps_their_keys(app, service_redis):
    # As stored before: a password hash and created_at; a key with no uid.
    service_redis.hset(
        user_key("carol"),
        mapping={"password_hash": hash_password("carol-password"), "created_at": "2026-01-01"},
    )
    legacy_key = ApiKeys(service_redis).create("carol").key
    assert service_redis.hget(api_key_key(digest_of(legacy_key)), "uid") is None
    assert app.get(PROVIDERS, headers=as_bearer(legacy_key)).status_code == 200  # not cut off
    uid = service_redis.hget(user_key("carol"), "uid")
    assert uid and service_redis.hget(user_key("carol"), "cred_version") == "1"
    assert service_redis.hget(api_key_key(digest_of(legacy_key)), "uid") == uid
    token = bearer(app, "carol")
    assert app.get(PROVIDERS, headers=token).status_code == 200
    assert service_redis.hget(user_key("carol"), "uid") == uid  # given once


def test_a_key_bound_to_another_uid_is_not_taken_over_by_a_legacy_user(service_redis):
    keys = ApiKeys(service_redis)
    made = keys.create("dave", uid="the-first-dave")
    service_redis.hset(user_key("dave"), "password_hash", hash_password("dave-password"))
    users = UserStore(service_redis)
    identity = users.identity("dave")  # the legacy user gets a uid: the key keeps its own
    assert identity.uid != "the-first-dave"
    assert keys.holder_of(made.key).uid == "the-first-dave"
    assert service_redis.hlen(user_api_keys_key("dave")) == 1
