"""The web console at /, driven in a real headless Chromium (Debian's chromium package, through
Playwright): signed in and composed with the keyboard, a job followed live through the events
endpoint, its audio measured by the browser itself."""

from __future__ import annotations

import re

import httpx
import pytest

from api.main import create_app
from tests.helpers import bearer, served

TEXTS = ["Hello from the console.", "A second block, after a pause.", "And the third one."]


@pytest.mark.pipeline
def test_a_job_composed_by_keyboard_is_followed_live_and_played(
    chromium, worker, users, service_redis
):
    from playwright.sync_api import expect

    with served(create_app()) as url:
        page = chromium.new_page()
        problems = []  # script errors, CSP refusals: anything the console logs as an error
        page.on("pageerror", lambda error: problems.append(str(error)))

        def on_console(message):
            # GET /jobs (recent jobs) may be absent: the console then lists this tab's jobs
            if message.type == "error" and not message.location["url"].endswith("/jobs"):
                problems.append(message.text)

        page.on("console", on_console)
        media_requests = []
        page.on("request", lambda r: r.resource_type == "media" and media_requests.append(r.url))
        page.goto(f"{url}/")

        # Every control has a label; signing in is typing, Tab and Enter.
        unlabelled = page.evaluate(
            "[...document.querySelectorAll('input, select, textarea')]"
            ".filter(e => !e.labels.length).map(e => e.outerHTML)"
        )
        assert unlabelled == []
        expect(page.get_by_label("Username")).to_be_focused()
        page.keyboard.type("alice")
        page.keyboard.press("Tab")
        expect(page.get_by_label("Password")).to_be_focused()
        page.keyboard.type("alice-password")
        page.keyboard.press("Enter")
        # the first GET /tts/providers of a process imports the providers' SDKs: seconds
        expect(page.get_by_text("Signed in as alice")).to_be_visible(timeout=30_000)

        # Three blocks (and a fourth, removed again), each field found by its label.
        expect(page.get_by_label("Block 1 Text")).to_be_focused()
        page.keyboard.type(TEXTS[0])
        for n in (2, 3, 4):
            page.get_by_role("button", name="Add block").press("Enter")
            expect(page.get_by_label(f"Block {n} Text")).to_be_focused()
            if n < 4:
                page.keyboard.type(TEXTS[n - 1])
        page.get_by_role("button", name="Remove block 4").press("Enter")
        expect(page.get_by_label("Block 4 Text")).to_have_count(0)
        expect(page.get_by_label("Block 2 Voice")).to_have_value("en_US-joe-medium")
        page.get_by_label("Block 1 Pause after").fill("400")
        page.get_by_label("Block 2 Speed").fill("1.25")
        page.get_by_label("Output format").select_option("mp3_24000_64")
        submit = page.get_by_role("button", name="Submit job")
        submit.focus()
        page.keyboard.press("Enter")

        # Progress arrives by the events endpoint, into the live region and the block list.
        title = page.locator("#job-title")
        expect(title).to_have_text(re.compile(r"^Job [0-9a-f-]{36}$"))
        job_id = title.inner_text().split()[1]
        assert page.locator("#progress").get_attribute("aria-live") == "polite"
        for n in (1, 2, 3):
            expect(page.get_by_text(f"Block {n}: completed")).to_be_visible(timeout=120_000)
        expect(page.locator("#progress")).to_contain_text("Job completed", timeout=30_000)

        # The player had the stream while the job ran, then the final file: its duration, as
        # the browser reads it once the metadata is loaded, is the job's.
        assert any(f"/result/{job_id}/audio?stream=true&exp=" in u for u in media_requests)
        page.wait_for_function(
            "() => { const a = document.getElementById('player');"
            " return a.dataset.source === 'final' && a.readyState >= 1; }",
            timeout=30_000,
        )
        duration_s = page.evaluate("document.getElementById('player').duration")
        with httpx.Client(base_url=url) as client:
            result = client.get(f"/result/{job_id}", headers=bearer(client, "alice")).json()
            link = page.get_by_role("link", name="Download the audio").get_attribute("href")
            download = client.get(link)  # a signed link: no token
        print(f"console: <audio> {duration_s * 1000:.1f} ms, job {result['duration_ms']} ms")
        assert abs(duration_s * 1000 - result["duration_ms"]) <= 50, (duration_s, result)
        assert result["duration_ms"] > 1000  # three sentences and a pause, really spoken
        assert download.status_code == 200 and download.headers["content-type"] == "audio/mpeg"

        # The job is among the recent ones, and nothing went wrong on the page.
        expect(page.locator("#recent-jobs")).to_contain_text(job_id[:8])
        # shown by what was said: the job's first words
        expect(page.locator("#recent-jobs")).to_contain_text(TEXTS[0].split(".")[0][:30])
        assert problems == []
        # The CSP is in force: a script injected into the page does not run.
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.injected = true'; document.head.append(s); }"
        )
        assert page.evaluate("window.injected") is None
        page.close()


def test_the_page_works_offline_under_its_csp(app):
    page = app.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert not re.search(r"(https?:)?//[a-z0-9]", page.text, re.IGNORECASE)  # no other host
    assert '<option value="mp3_24000_64" selected>' in page.text  # DEFAULT_OUTPUT_FORMAT
    assert '<option value="flac_48000">' in page.text
    assert 'data-default-provider="piper"' in page.text
    assets = re.findall(r'(?:href|src)="(/[^"]+)"', page.text)
    assert sorted(a.rsplit(".", 1)[-1] for a in assets) == ["css", "js", "svg"]
    for asset in assets:
        response = app.get(asset)
        assert response.status_code == 200 and response.content, asset
        assert response.headers["content-security-policy"] == csp
    assert app.get("/docs").status_code == 200  # the API's docs stay where they were


def test_a_pasted_script_becomes_blocks_and_refusals_are_shown(chromium, users, service_redis):
    from playwright.sync_api import expect

    with served(create_app()) as url:
        page = chromium.new_page()
        page.goto(f"{url}/")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("wrong")
        page.get_by_label("Password").press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("Sign-in failed")
        expect(page.get_by_label("Password")).to_be_focused()
        page.keyboard.type("alice-password")
        page.keyboard.press("Enter")
        expect(page.get_by_label("Block 1 Text")).to_be_focused(timeout=30_000)

        # Focus is visible to a keyboard user: the next control after the text is outlined.
        page.keyboard.press("Tab")
        expect(page.get_by_label("Block 1 Provider")).to_be_focused()
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"

        page.get_by_text("Paste a script").press("Enter")
        script = "First paragraph.\nStill the first.\n\nSecond one.\n\n\n  Third.  \n"
        page.get_by_label("Script").fill(script)
        page.get_by_role("button", name="Make blocks from the script").press("Enter")
        texts = [page.get_by_label(f"Block {n} Text").input_value() for n in (1, 2, 3)]
        assert texts == ["First paragraph.\nStill the first.", "Second one.", "Third."]
        expect(page.get_by_label("Block 4 Text")).to_have_count(0)
        expect(page.get_by_label("Block 1 Text")).to_be_focused()

        # A refused job says why, naming the block's field, and nothing is submitted.
        page.get_by_label("Block 2 Text").fill("!!!")
        page.get_by_role("button", name="Submit job").press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("The job was refused:")
        expect(page.get_by_role("alert")).to_contain_text("Block 2, text: has nothing to speak")
        assert page.locator("#job").is_hidden()
        page.close()
