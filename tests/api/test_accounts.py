"""Users' own provider accounts: registered, listed without their keys, private, deleted."""

from __future__ import annotations

import json

from tests.conftest import SIMULATOR_URL
from tests.inner_network import PUBLIC, LoopbackServer, dns_fixture, network_fixture  # noqa: F401
from utils.accounts.user_accounts import UserAccounts, cipher_from
from utils.names import user_accounts_key

ALICES_KEY = "sk-alice-own-key-0123456789abcdef"


def account(**overrides) -> dict:
    return {
        "name": "mine",
        "type": "openai",
        "api_key": ALICES_KEY,
        "base_url": f"{SIMULATOR_URL}/v1",
        "concurrency": 2,
        **overrides,
    }


def test_an_account_is_saved_and_listed_without_its_key(app, alice, service_redis):
    response = app.post("/accounts", headers=alice, json=account())
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/accounts/mine"
    listed = app.get("/accounts", headers=alice)
    assert [a["name"] for a in listed.json()] == ["mine"]
    assert listed.json()[0]["has_api_key"] is True and listed.json()[0]["concurrency"] == 2
    for body in (response.text, listed.text):
        assert ALICES_KEY not in body
    stored = service_redis.hget(user_accounts_key("alice"), "mine")
    assert ALICES_KEY not in stored  # encrypted at rest
    assert json.loads(stored)["api_key_token"].startswith("gAAAAA")  # a Fernet token


def test_the_key_decrypts_only_with_the_service_key(app, alice, service_redis):
    app.post("/accounts", headers=alice, json=account())
    settings = app.app.state.settings
    config = UserAccounts(service_redis, cipher_from(settings)).config("alice", "mine")
    assert config.api_key.get_secret_value() == ALICES_KEY


def test_accounts_are_private(app, alice, bob):
    app.post("/accounts", headers=alice, json=account())
    assert app.get("/accounts", headers=bob).json() == []
    assert app.delete("/accounts/mine", headers=bob).status_code == 404


def test_a_name_taken_by_a_service_provider_or_malformed_is_refused(app, alice):
    taken = app.post("/accounts", headers=alice, json=account(name="openai"))
    assert taken.status_code == 422 and taken.json()["detail"][0]["field"] == "name"
    bad = app.post("/accounts", headers=alice, json=account(name="a/b"))
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "name"
    kind = app.post("/accounts", headers=alice, json=account(type="piper"))
    assert kind.status_code == 422 and kind.json()["detail"][0]["field"] == "type"


def test_a_deleted_account_is_gone(app, alice):
    app.post("/accounts", headers=alice, json=account())
    assert app.delete("/accounts/mine", headers=alice).status_code == 204
    assert app.get("/accounts", headers=alice).json() == []
    assert app.delete("/accounts/mine", headers=alice).status_code == 404


def test_a_volcengine_account_needs_its_app_id(app, alice):
    response = app.post("/accounts", headers=alice, json=account(type="volcengine"))
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "app_id"
    response = app.post("/accounts", headers=alice, json=account(type="volcengine", app_id="42"))
    assert response.status_code == 201 and response.json()["app_id"] == "42"


def test_a_key_or_url_no_request_could_carry_is_refused_without_quoting_the_key(app, alice):
    # A key travels in an HTTP header: an accented one would fail every request of the account
    # (and, unchecked, the voice listing at submit) instead of being refused here.
    for bad_key in ("sk-àccent", "two words", ""):
        response = app.post("/accounts", headers=alice, json=account(api_key=bad_key))
        assert response.status_code == 422, (bad_key, response.text)
        assert response.json()["detail"][0]["field"] == "api_key"
        if bad_key:
            assert bad_key not in response.text
    for bad_url in ("ftp://u:secret@example.com", "not a url", "http://exàmple.com/v1"):
        response = app.post("/accounts", headers=alice, json=account(base_url=bad_url))
        assert response.status_code == 422, (bad_url, response.text)
        assert response.json()["detail"][0]["field"] == "base_url"
        assert "secret" not in response.text  # a URL may carry credentials: never echoed
    assert app.get("/accounts", headers=alice).json() == []


def test_a_base_url_reaching_inside_the_network_is_refused_without_a_request(app, alice, dns):
    dns["nowhere.example"] = []
    with LoopbackServer() as server:
        refused = {
            "http://169.254.169.254/latest": "169.254.169.254 is a link-local address",
            "http://10.0.0.1/v1": "10.0.0.1 is a private address",
            f"http://localhost:{server.port}/v1": "localhost resolves to 127.0.0.1, a loopback",
            f"http://[::1]:{server.port}/v1": "::1 is a loopback address",
            "http://127.0.0.2/v1": "127.0.0.2 is a loopback address",  # not the one allowed
            "http://nowhere.example/v1": "its host nowhere.example does not resolve",
        }
        for base_url, reason in refused.items():
            response = app.post("/accounts", headers=alice, json=account(base_url=base_url))
            assert response.status_code == 422, (base_url, response.text)
            (problem,) = response.json()["detail"]
            assert problem["field"] == "base_url" and reason in problem["msg"], problem
    assert server.connections == 0
    assert app.get("/accounts", headers=alice).json() == []


def test_an_account_whose_name_now_resolves_inward_is_refused_at_submit(app, alice, dns, network):
    dns["speech.example"] = [PUBLIC]  # a public server when registered (never connected to)
    for name, kind, base_url in (
        ("mine", "openai", "http://speech.example/v1"),
        ("voices", "elevenlabs", "http://speech.example"),
    ):
        body = account(name=name, type=kind, base_url=base_url)
        assert app.post("/accounts", headers=alice, json=body).status_code == 201
    dns["speech.example"] = ["127.0.0.1"]
    blocks = [{"text": "Hello.", "provider": "mine"}, {"text": "Hi.", "provider": "voices"}]
    response = app.post("/tts", headers=alice, json={"blocks": blocks})
    assert response.status_code == 422, response.text
    problems = response.json()["detail"]
    assert [p["field"] for p in problems] == ["blocks[0].provider", "blocks[1].provider"]
    for problem in problems:
        assert "base_url" in problem["msg"] and "127.0.0.1, a loopback" in problem["msg"]
    speech = {"model": "mine", "input": "Hello.", "voice": "alloy"}
    response = app.post("/v1/audio/speech", headers=alice, json=speech)
    assert response.status_code == 400, response.text  # OpenAI's shape, as the route answers
    error = response.json()["error"]
    assert error["param"] == "model" and "base_url" in error["message"]
    assert network.made == []  # not even the voice list was asked for
