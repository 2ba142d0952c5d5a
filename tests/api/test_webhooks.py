"""Webhooks at the door and in parts: callback URLs refused, the signing secret, one signed
attempt, the schedule in Redis. The delivery through real workers is tests/workers/
test_webhooks_pipeline.py."""

from __future__ import annotations

import ipaddress
import json
import time

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from config import Settings
from utils.names import webhook_secret_key, webhooks_due_key
from utils.webhooks.addresses import AddressPolicy, check_callback_url, non_global_kind
from utils.webhooks.deliveries import Deliveries
from utils.webhooks.sender import post_event
from utils.webhooks.signing_secrets import new_secret
from workers.webhooks import next_attempt_at


def submit(app, headers, callback_url: str):
    body = {"blocks": [{"text": "Hello."}], "callback_url": callback_url}
    return app.post("/tts", headers=headers, json=body)


REFUSED = [
    ("http://127.0.0.1:9000/hook", "127.0.0.1 is a loopback address"),
    ("http://10.1.2.3/hook", "10.1.2.3 is a private address"),
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
    ("http://[::1]:8080/hook", "::1 is a loopback address"),
    ("http://localhost:8000/hook", "localhost resolves to"),
    ("http://100.64.0.7/hook", "a shared (CGNAT) address"),
    ("http://[::ffff:10.0.0.1]/hook", "a private (IPv4 10.0.0.1 inside) address"),
    ("ftp://example.com/hook", "must be an http:// or https:// URL"),
    ("http://no-such-host.invalid/hook", "does not resolve to an address"),
    ("https://user:pw@example.com/hook", "must not carry a user name or password"),
]


def test_a_callback_url_webhooks_may_not_call_is_refused_at_submit(app, alice, service_redis):
    for url, why in REFUSED:  # one app for all: its start is the slow part
        response = submit(app, alice, url)
        assert response.status_code == 422, response.text
        [problem] = response.json()["detail"]
        assert problem["field"] == "callback_url" and problem["loc"] == ["body", "callback_url"]
        assert why in problem["msg"], problem["msg"]
    message = submit(app, alice, "http://127.0.0.1/").json()["detail"][0]["msg"]
    assert "WEBHOOK_ALLOW_PRIVATE" in message and "WEBHOOK_ALLOWED_HOSTS" in message
    assert not list(service_redis.scan_iter("tts:job:*"))  # nothing was accepted


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("240.0.0.1", "reserved"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("fe80::1", "link-local"),
        ("2002:7f00:1::", "loopback (IPv4 127.0.0.1 inside)"),
    ],
)
def test_addresses_are_judged_by_what_they_reach(address, kind):
    assert non_global_kind(ipaddress.ip_address(address)) == kind


def test_allowed_hosts_and_the_private_switch_let_loopback_through():
    assert check_callback_url("http://localhost:1/x", AddressPolicy(allowed_hosts=("localhost",)))
    target = check_callback_url("http://[::1]:81/x?y=1", AddressPolicy(allow_private=True))
    assert (target.connect_url, target.host_header) == ("http://[::1]:81/x?y=1", "[::1]:81")
    settings = Settings(WEBHOOK_ALLOWED_HOSTS="Hooks.Example.com, [::1]")
    assert AddressPolicy.from_settings(settings).allowed_hosts == ("hooks.example.com", "::1")


def test_the_secret_is_made_once_kept_encrypted_and_rotated(app, alice, bob, service_redis):
    first = app.get("/webhooks/secret", headers=alice)
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    secret = first.json()["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert app.get("/webhooks/secret", headers=alice).json()["secret"] == secret
    stored = service_redis.get(webhook_secret_key("alice"))
    assert stored.startswith("gAAAAA") and secret.removeprefix("whsec_") not in stored
    assert app.get("/webhooks/secret", headers=bob).json()["secret"] != secret
    rotated = app.post("/webhooks/secret/rotate", headers=alice).json()["secret"]
    assert rotated != secret and rotated.startswith("whsec_")
    assert app.get("/webhooks/secret", headers=alice).json()["secret"] == rotated
    assert app.get("/webhooks/secret").status_code == 401


def test_an_attempt_connects_to_the_checked_address_and_names_the_host():
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"location": "http://169.254.169.254/"})

    secret, body = new_secret(), json.dumps({"type": "job.completed"})
    policy = AddressPolicy(allowed_hosts=("localhost",))
    attempt = post_event(
        "https://localhost:8443/hook?a=1", body, secret, "msg_1", policy, 5,
        transport=httpx.MockTransport(receiver),
    )  # fmt: skip
    [request] = seen  # the redirect was not followed
    assert attempt.status_code == 302 and not attempt.succeeded
    assert str(request.url) == "https://127.0.0.1:8443/hook?a=1"  # the address checked
    assert request.headers["host"] == "localhost:8443"
    assert request.extensions["sni_hostname"] == "localhost"  # TLS names (and verifies) it
    verified = Webhook(secret).verify(request.content, dict(request.headers))
    assert verified == {"type": "job.completed"}


def test_an_attempt_to_a_refused_address_sends_nothing():
    seen = []
    attempt = post_event(
        "http://localhost:1/hook", "{}", new_secret(), "msg_1", AddressPolicy(), 5,
        transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200)),
    )  # fmt: skip
    assert seen == [] and attempt.status_code is None
    assert "loopback" in attempt.error


def test_retries_back_off_for_eight_hours_then_stop():
    settings = Settings()  # 30 s, doubling, at most an hour apart, for 8 hours
    first = now = 1_000_000.0
    delays = []
    while (due := next_attempt_at(settings, len(delays) + 1, first, now)) is not None:
        delays.append(due - now)
        now = due
    assert delays[:4] == [30, 60, 120, 240] and max(delays) == 3600
    assert 7 * 3600 < now - first <= 8 * 3600 and len(delays) == 13  # 14 attempts


def test_a_delivery_opens_once_and_each_attempt_is_made_once(redis_db):
    deliveries = Deliveries(redis_db)
    expires = int(time.time()) + 60
    args = ("job1", "job.completed", "http://h/", "{}", "msg_1", expires, 30)
    assert deliveries.open(*args) is True
    assert deliveries.open(*args) is False  # a second finisher, a redelivered task
    assert deliveries.begin("job1", "job.completed", 1, 5) is None  # not attempt 2 yet
    assert deliveries.begin("job1", "job.completed", 0, 5)["webhook_id"] == "msg_1"
    assert deliveries.begin("job1", "job.completed", 0, 5) is None  # being made
    assert deliveries.claim_due(30) == []  # claimed by its opener until the lease ends
    attempt = {"at": "2026-01-01T00:00:00.000Z", "duration_ms": 3, "status_code": 500}
    deliveries.record("job1", "job.completed", attempt, False, time.time() - 1)
    assert deliveries.claim_due(30) == [("job1", "job.completed", 1)]
    assert deliveries.claim_due(30) == []  # sent once
    deliveries.record("job1", "job.completed", {**attempt, "status_code": 200}, True, None)
    assert redis_db.zcard(webhooks_due_key()) == 0
    status = deliveries.status("job1")
    assert status["delivered"] and status["next_attempt_at"] is None
    assert [a["status_code"] for a in status["attempts"]] == [500, 200]


def test_the_store_announces_each_outcome_it_reaches_and_no_other(redis_db):
    from utils.jobs.models import BlockSpec, JobStatus
    from utils.jobs.store import JobStore

    told: list[tuple[str, JobStatus]] = []
    jobs = JobStore(redis_db, 60, on_finished=lambda job_id, status: told.append((job_id, status)))
    spec = BlockSpec("Hello.", "piper", "v")
    job = jobs.create("j1", "alice", "mp3_24000_64", [spec], callback_url="http://h/")
    assert jobs.get("j1").callback_url == "http://h/"
    jobs.complete(job, "k", 100, [(0, 100)])
    jobs.fail("j1", "too late")  # a completed job stays completed: nothing to announce
    jobs.create("j2", "alice", "mp3_24000_64", [spec])
    jobs.fail("j2", "broken")
    assert told == [("j1", JobStatus.COMPLETED), ("j2", JobStatus.FAILED)]
