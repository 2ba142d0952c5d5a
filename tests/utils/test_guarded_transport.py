"""The guarded transport: addresses checked as it connects, to the address it checked; no
redirects, no proxies. Nothing here reaches past loopback (tests/inner_network.py)."""

from __future__ import annotations

import ssl

import httpx
import pytest

from tests.inner_network import PUBLIC, LoopbackServer, dns_fixture, network_fixture  # noqa: F401
from tests.utils.test_webhook_tls import certificate_for
from utils.net import guarded_transport
from utils.net.addresses import AddressPolicy
from utils.net.guarded_transport import AddressRefused, guarded_client


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/v1/audio/speech",
        "http://100.64.0.1/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
    ],
)
def test_inner_addresses_are_refused_before_any_connection(network, url):
    with guarded_client(AddressPolicy(), timeout=2) as client, pytest.raises(AddressRefused):
        client.post(url, json={"key": "secret"})
    assert network.made == []


def test_a_loopback_server_receives_nothing_by_address_or_by_name(network):
    with LoopbackServer() as server, guarded_client(AddressPolicy(), timeout=2) as client:
        for url in (server.url, f"http://localhost:{server.port}/", f"http://[::1]:{server.port}"):
            with pytest.raises(AddressRefused, match="loopback"):
                client.get(url)
    assert network.made == [] and server.connections == 0


def test_a_name_that_now_resolves_inward_is_refused_at_connect(dns, network):
    dns["speech.example"] = [PUBLIC, "127.0.0.1"]  # one inner address is enough
    client = guarded_client(AddressPolicy(), timeout=2)
    with client, pytest.raises(AddressRefused) as caught:
        client.get("http://speech.example/v1/voices")
    assert caught.value.reason == "speech.example resolves to 127.0.0.1, a loopback address"
    assert network.made == []


def test_the_connection_goes_to_the_checked_address_and_the_name_travels_as_host(dns, network):
    dns["speech.example"] = [PUBLIC]
    with LoopbackServer(body=b'{"ok": true}') as server:
        network.route = server.port
        with guarded_client(AddressPolicy(), timeout=2) as client:
            response = client.get(f"http://speech.example:{server.port}/v1/voices")
        assert response.json() == {"ok": True}
    assert network.made == [(PUBLIC, server.port)]  # the address, never the name
    assert server.requests[0]["headers"]["Host"] == f"speech.example:{server.port}"
    dns["speech.example"] = ["10.1.2.3"]  # the next connection asks the resolver again
    with guarded_client(AddressPolicy(), timeout=2) as client, pytest.raises(AddressRefused):
        client.get(f"http://speech.example:{server.port}/v1/voices")
    assert len(network.made) == 1


def test_an_allowed_host_is_reached_and_its_redirect_not_followed():
    with LoopbackServer() as second, LoopbackServer(302) as first:
        first.headers = {"location": f"{second.url}/latest/meta-data/"}
        policy = AddressPolicy(allowed_hosts=("127.0.0.1",))
        with guarded_client(policy, timeout=2) as client:
            response = client.get(f"{first.url}/v1/voices", follow_redirects=True)
        assert response.status_code == 302
        assert len(first.requests) == 1 and second.requests == []
        assert second.connections == 0


def test_allow_private_opens_every_address():
    client = guarded_client(AddressPolicy(allow_private=True), timeout=2)
    with LoopbackServer() as server, client:
        assert client.get(f"http://localhost:{server.port}/").status_code == 200


def test_no_proxy_from_the_environment(monkeypatch):
    with LoopbackServer() as proxy, LoopbackServer() as server:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy.url)
        policy = AddressPolicy(allowed_hosts=("127.0.0.1",))
        with guarded_client(policy, timeout=2) as client:
            assert client.get(server.url).status_code == 200
        assert proxy.connections == 0 and len(server.requests) == 1


def test_httpcore_failures_arrive_as_httpx_errors():
    policy = AddressPolicy(allowed_hosts=("127.0.0.1",))
    with guarded_client(policy, timeout=2) as client, pytest.raises(httpx.ConnectError):
        client.get("http://127.0.0.1:9/")  # nothing listens on the discard port


def test_https_speaks_tls_to_the_name_over_the_checked_address(dns, network, monkeypatch, tmp_path):
    cert, key = certificate_for("speech.example", tmp_path)  # valid for the name alone
    dns["speech.example"] = [PUBLIC]
    monkeypatch.setattr(
        guarded_transport, "_tls_context", lambda: ssl.create_default_context(cafile=cert)
    )
    seen: dict = {}
    with LoopbackServer() as server:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)

        def note_sni(sock, name, ctx):  # None: go on with the handshake
            seen["sni"] = name

        context.sni_callback = note_sni
        server.wrap(context)
        network.route = server.port
        with guarded_client(AddressPolicy(), timeout=5) as client:
            response = client.get(f"https://speech.example:{server.port}/v1/voices")
    assert response.status_code == 200 and seen["sni"] == "speech.example"
    assert network.made == [(PUBLIC, server.port)]
