"""Webhooks through real workers and beat: a receiver on loopback (allowed by
WEBHOOK_ALLOWED_HOSTS for this service) that answers 500 once and then 200, a redirect that is
not followed, a failed job's event, 410 Gone, and a rotated secret."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

pytestmark = pytest.mark.pipeline


class Receiver:
    """A tiny webhook receiver on loopback: records every request; answers by path.

    /flaky: 500 the first time, then 200.  /redirect: 302 to /elsewhere.  /gone: 410.
    Anything else: 200."""

    def __init__(self):
        self.requests: list[tuple[str, dict, bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.requests.append((self.path, dict(self.headers), body))
                    seen = sum(path == self.path for path, _, _ in receiver.requests)
                if self.path == "/flaky":
                    self.send_response(500 if seen == 1 else 200)
                elif self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "/elsewhere")
                elif self.path == "/gone":
                    self.send_response(410)
                else:
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def at(self, path: str) -> list[tuple[dict, bytes]]:
        with self.lock:
            return [(headers, body) for p, headers, body in self.requests if p == path]


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def wait_for_webhook(app, headers, job_id, done, timeout_s=60.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        webhook = app.get(f"/status/{job_id}", headers=headers).json().get("webhook")
        if webhook and done(webhook):
            return webhook
        time.sleep(0.1)
    raise AssertionError(f"webhook of job {job_id} not as expected: {webhook}")


def submit(app, headers, callback_url, provider=None):
    block = {"text": "Hello there.", **({"provider": provider} if provider else {})}
    response = app.post(
        "/tts", headers=headers, json={"blocks": [block], "callback_url": callback_url}
    )
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def verified(secret: str, headers: dict, body: bytes) -> dict:
    return Webhook(secret).verify(body, headers)


def test_webhooks_are_signed_retried_shown_and_stop_when_told(
    isolated_service, receiver, simulator
):
    env = {
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "WEBHOOK_RETRY_BASE_S": "0.5",  # then 1 s, 2 s ...
        "WEBHOOK_RETRY_FOR_S": "3",  # so a receiver that never says 2xx is soon given up
        "WEBHOOK_SWEEP_INTERVAL_S": "0.5",
    }
    app, alice = isolated_service(db=12, env=env, beat=True)
    secret = app.get("/webhooks/secret", headers=alice).json()["secret"]

    simulator.fault(400, times=10, message="voice not allowed")  # for the openai block below
    job_id = submit(app, alice, f"{receiver.url}/flaky")
    pending = app.get(f"/status/{job_id}", headers=alice).json()["webhook"]  # before its outcome
    assert pending == {"url": f"{receiver.url}/flaky", "attempts": [], "delivered": False}
    redirected = submit(app, alice, f"{receiver.url}/redirect")
    gone = submit(app, alice, f"{receiver.url}/gone", provider="openai")

    # Completed: 500 once, then 200; both attempts visible, one id, each signed.
    webhook = wait_for_webhook(app, alice, job_id, lambda w: w["delivered"])
    assert [a.get("status_code") for a in webhook["attempts"]] == [500, 200]
    assert webhook["event"] == "job.completed" and "next_attempt_at" not in webhook  # none
    assert all(a["duration_ms"] >= 0 and a["at"] for a in webhook["attempts"])
    requests = receiver.at("/flaky")
    assert len(requests) == 2
    assert requests[0][0]["webhook-id"] == requests[1][0]["webhook-id"]
    assert requests[0][1] == requests[1][1]  # the same event, byte for byte
    event = verified(secret, *requests[1])
    status = app.get(f"/status/{job_id}", headers=alice).json()
    assert event["type"] == "job.completed" and event["timestamp"]
    assert event["data"]["job_id"] == job_id and event["data"]["status"] == "completed"
    result = app.get(f"/result/{job_id}", headers=alice).json()
    assert event["data"]["duration_ms"] == result["duration_ms"] > 0
    assert event["data"]["url"].endswith(f"/result/{job_id}")
    assert secret not in json.dumps(status)

    # A redirect is a failed attempt, never followed; past WEBHOOK_RETRY_FOR_S, no more.
    job_id = redirected
    webhook = wait_for_webhook(app, alice, job_id, lambda w: w.get("stopped"))
    n = len(webhook["attempts"])  # how many fit in 3 s depends on the machine; 2 at least
    assert n >= 2 and [a.get("status_code") for a in webhook["attempts"]] == [302] * n
    assert not webhook["delivered"] and webhook["stopped"] == f"gave up after {n} attempts"
    assert receiver.at("/elsewhere") == [] and len(receiver.at("/redirect")) == n

    # Failed: the provider refuses; the event says why. 410 Gone ends the delivery at once.
    job_id = gone
    webhook = wait_for_webhook(app, alice, job_id, lambda w: w.get("stopped"))
    assert [a.get("status_code") for a in webhook["attempts"]] == [410]
    assert webhook["event"] == "job.failed" and "410" in webhook["stopped"]
    [(headers, body)] = receiver.at("/gone")
    event = verified(secret, headers, body)
    assert event["type"] == "job.failed" and event["data"]["status"] == "failed"
    assert "voice not allowed" in event["data"]["error"] and "url" not in event["data"]

    # A rotated secret signs from now on: the old one no longer verifies.
    rotated = app.post("/webhooks/secret/rotate", headers=alice).json()["secret"]
    job_id = submit(app, alice, f"{receiver.url}/after-rotation")
    wait_for_webhook(app, alice, job_id, lambda w: w["delivered"])
    [(headers, body)] = receiver.at("/after-rotation")
    assert verified(rotated, headers, body)["data"]["job_id"] == job_id
    with pytest.raises(WebhookVerificationError):
        verified(secret, headers, body)
