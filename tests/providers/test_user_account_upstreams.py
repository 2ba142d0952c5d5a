"""Users' own accounts through the real SDKs: only the addresses the operator's rule allows,
no redirects, and the server's words shown only where the operator allows its host. The
service's own accounts stay unrestricted. Nothing here reaches past loopback
(tests/inner_network.py)."""

from __future__ import annotations

import importlib

import pytest

from config import ProviderConfig
from settings.user_accounts import UserAccountSettings
from tests.conftest import TEST_API_KEY, TEST_VOLC_APP_ID
from tests.inner_network import PUBLIC, LoopbackServer, dns_fixture, network_fixture  # noqa: F401
from utils.accounts import upstream_access
from utils.errors import ProviderRejected
from workers.providers import IMPLEMENTATIONS, ProviderRegistry, SynthesisRequest

KINDS = ["openai", "elevenlabs", "volcengine"]
INNER_WORDS = "db=prod-7 secret-token-from-inside"


def account(kind: str, server_url: str, name: str = "alice/mine"):
    """A provider instance for a user's own account (a qualified name) of this kind."""
    base = f"{server_url}/v1" if kind == "openai" else server_url
    config = ProviderConfig(
        type=kind,
        api_key=TEST_API_KEY,
        base_url=base,
        app_id=TEST_VOLC_APP_ID if kind == "volcengine" else None,
        timeout_s=5,
    )
    module_name, class_name = IMPLEMENTATIONS[kind].split(":")
    return getattr(importlib.import_module(module_name), class_name)(name, config)


def speak(provider):
    return provider.synthesize(SynthesisRequest("Hello there.", provider.default_voice))


@pytest.fixture
def no_allow_list(monkeypatch):
    """The operator's rule with nothing allowed (the session allows 127.0.0.1)."""
    monkeypatch.setattr(
        upstream_access,
        "user_account_settings",
        lambda: UserAccountSettings(allow_private=False, allowed_hosts=[]),
    )


@pytest.mark.parametrize("kind", KINDS)
def test_an_inner_server_receives_nothing_and_is_not_quoted(kind, no_allow_list):
    body = f'{{"error": {{"message": "{INNER_WORDS}"}}}}'.encode()
    with LoopbackServer(status=400, body=body) as server:
        for url in (server.url, f"http://localhost:{server.port}"):
            provider = account(kind, url)
            with pytest.raises(ProviderRejected) as caught:
                speak(provider)
            message = str(caught.value)
            assert "base_url" in message and "a loopback address" in message, message
            assert INNER_WORDS not in message
        if kind == "elevenlabs":  # the voice list the API asks for at submit
            with pytest.raises(ProviderRejected, match="base_url"):
                provider.voices()
    assert server.connections == 0 and server.requests == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_public_server_not_on_the_list_is_reached_but_its_words_not_shown(
    kind, simulator, dns, network
):
    dns["speech.example"] = [PUBLIC]
    network.route = simulator.port
    provider = account(kind, f"http://speech.example:{simulator.port}")
    assert provider.upstream.guarded and not provider.upstream.shows_text
    simulator.fault(401, message=INNER_WORDS)
    with pytest.raises(ProviderRejected) as caught:
        speak(provider)
    message = str(caught.value)
    assert message == f"alice/mine: HTTP 401: {upstream_access.NOT_SHOWN}"
    assert network.made == [(PUBLIC, simulator.port)]  # the checked address, not the name
    speak(provider)  # and it works, through the same client


@pytest.mark.parametrize("kind", KINDS)
def test_an_allowed_host_works_and_its_words_are_shown(kind, simulator):
    provider = account(kind, simulator.url)  # 127.0.0.1: on the session's allow-list
    assert provider.upstream.guarded and provider.upstream.shows_text
    speak(provider)
    simulator.fault(401, message=INNER_WORDS)
    with pytest.raises(ProviderRejected) as caught:
        speak(provider)
    assert INNER_WORDS in str(caught.value)
    assert TEST_API_KEY not in str(caught.value)


@pytest.mark.parametrize("kind", KINDS)
def test_a_redirect_is_an_answer_never_followed(kind):
    with LoopbackServer() as second, LoopbackServer(302) as first:
        first.headers = {"location": f"{second.url}/latest/meta-data/"}
        with pytest.raises(ProviderRejected) as caught:
            speak(account(kind, first.url))
        assert caught.value.status_code == 302
        assert len(first.requests) == 1 and second.connections == 0


def test_the_services_own_accounts_stay_unrestricted(no_allow_list, simulator):
    config = ProviderConfig(
        type="openai", api_key=TEST_API_KEY, base_url=f"http://localhost:{simulator.port}/v1"
    )
    provider = ProviderRegistry({"inhouse": config}).get("inhouse")
    assert not provider.upstream.guarded
    speak(provider)
    simulator.fault(401, message=INNER_WORDS)
    with pytest.raises(ProviderRejected, match=INNER_WORDS):
        speak(provider)
