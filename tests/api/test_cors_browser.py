"""CORS as a browser sees it: Debian's chromium (through Playwright) runs the example page
docs/examples/speech.html, served by the test on ports of its own (other origins than the
service's). From an allowed origin the page speaks through POST /v1/audio/speech with an API
key and plays the answer, measured by the browser; from an origin not on the list the browser
refuses the page's fetch, yet a signed audio link still plays there in an <audio src>.

One service, one worker and one browser for the module."""

from __future__ import annotations

import re
from contextlib import ExitStack
from types import SimpleNamespace

import httpx
import pytest

from tests.console.conftest import chromium  # noqa: F401 - the console tests' browser
from tests.docs.examples import ROOT
from tests.helpers import served, wait_for_job

pytestmark = pytest.mark.pipeline
EXAMPLES = ROOT / "docs" / "examples"
TEXT = "The harbour was quiet before dawn, and the boats lay still."


@pytest.fixture(scope="module")
def sites(redis_server, worker):
    """Two origins serving the example page (one allowed, one not) and the service allowing
    the first: their URLs and an API key of alice's."""
    import os

    import redis
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    from api.main import create_app
    from config import Settings
    from utils.auth.users import UserStore

    client = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    UserStore(client).set_password("alice", "alice-password")
    client.close()
    pages = Starlette(routes=[Mount("/", StaticFiles(directory=EXAMPLES))])
    with ExitStack() as stack:
        allowed = stack.enter_context(served(pages))
        foreign = stack.enter_context(served(pages))
        api = stack.enter_context(served(create_app(Settings(CORS_ALLOW_ORIGINS=allowed))))
        token = httpx.post(
            f"{api}/token", data={"username": "alice", "password": "alice-password"}, timeout=10
        ).json()["access_token"]
        key = httpx.post(
            f"{api}/keys",
            json={"name": "browser page"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()["key"]
        yield SimpleNamespace(allowed=allowed, foreign=foreign, api=api, key=key)


def open_page(browser, site: str, sites) -> tuple:
    """The example page from `site`, its form filled in: (page, console errors)."""
    page = browser.new_page()
    errors = []
    page.on(
        "console",
        lambda message: (
            message.type == "error" and errors.append(f"{message.text} {message.location['url']}")
        ),
    )
    page.goto(f"{site}/speech.html")
    page.get_by_label("Service URL").fill(sites.api)
    page.get_by_label("API key").fill(sites.key)
    page.get_by_label("Text").fill(TEXT)
    return page, errors


def test_a_page_on_an_allowed_origin_speaks_and_plays(chromium, sites):  # noqa: F811
    from playwright.sync_api import expect

    page, errors = open_page(chromium, sites.allowed, sites)
    page.get_by_role("button", name="Speak").click()
    expect(page.get_by_role("status")).to_contain_text("Playing", timeout=60_000)
    job_id = page.locator("#player").get_attribute("data-job")  # X-Job-Id, an exposed header
    assert re.fullmatch(r"[0-9a-f-]{36}", job_id or ""), job_id

    page.wait_for_function(
        "() => { const a = document.getElementById('player');"
        " return a.readyState >= 1 && a.currentTime > 0; }",
        timeout=30_000,
    )
    element_s = page.evaluate("document.getElementById('player').duration")
    decoded_s = page.evaluate(
        """async () => {
            const bytes = await (await fetch(document.getElementById('player').src)).arrayBuffer();
            const audio = await new OfflineAudioContext(1, 1, 24000).decodeAudioData(bytes);
            return audio.duration;
        }"""
    )
    print(f"cors page: <audio> {element_s:.3f} s, decoded {decoded_s:.3f} s")
    assert 2.0 < decoded_s < 10.0  # a sentence, really spoken
    assert abs(element_s - decoded_s) < 0.1

    # A range of the job's first piece, read by the page: the pre-flight of Range and the
    # exposed Content-Range.
    with httpx.Client(base_url=sites.api, timeout=10) as client:
        wait_for_job(client, job_id, {"Authorization": f"Bearer {sites.key}"})
    ranged = page.evaluate(
        """async ([api, key, job]) => {
            const response = await fetch(`${api}/result/${job}/block/0/audio`,
                {headers: {Authorization: `Bearer ${key}`, Range: 'bytes=0-99'}});
            const body = await response.arrayBuffer();
            return [response.status, response.headers.get('Content-Range'), body.byteLength,
                    response.headers.get('X-Request-ID')];
        }""",
        [sites.api, sites.key, job_id],
    )
    status, content_range, length, request_id = ranged
    assert status == 206 and length == 100
    assert re.fullmatch(r"bytes 0-99/\d+", content_range), content_range
    assert request_id
    assert errors == []
    page.close()


def test_a_page_on_another_origin_is_refused_but_signed_links_play(chromium, sites):  # noqa: F811
    from playwright.sync_api import expect

    page, errors = open_page(chromium, sites.foreign, sites)
    page.get_by_role("button", name="Speak").click()
    expect(page.get_by_role("status")).to_contain_text("Failed:", timeout=30_000)
    assert page.locator("#player").get_attribute("data-job") is None
    assert any("CORS policy" in error for error in errors), errors

    # The same page's own fetch, and an error response: unreadable from here.
    refused = page.evaluate(
        """async (api) => {
            try { await fetch(`${api}/v1/models`); return 'read'; }
            catch (error) { return error.name; }
        }""",
        sites.api,
    )
    assert refused == "TypeError"

    # A signed link carries no credentials: it plays from any origin.
    with httpx.Client(base_url=sites.api, timeout=10) as client:
        key = {"Authorization": f"Bearer {sites.key}"}
        submitted = client.post("/tts", json={"blocks": [{"text": TEXT}]}, headers=key)
        assert submitted.status_code == 202, submitted.text
        job = wait_for_job(client, submitted.json()["job_id"], key)
        result = client.get(f"/result/{job['job_id']}", headers=key).json()
    played_s = page.evaluate(
        """(url) => new Promise((resolve, reject) => {
            const audio = document.createElement('audio');
            audio.onloadedmetadata = () => resolve(audio.duration);
            audio.onerror = () => reject(new Error('the signed link did not load'));
            audio.src = url;
        })""",
        result["signed_url"],
    )
    print(f"signed link on a foreign origin: <audio> {played_s:.3f} s")
    assert abs(played_s * 1000 - result["duration_ms"]) <= 50, (played_s, result["duration_ms"])
    assert played_s > 2.0
    page.close()
