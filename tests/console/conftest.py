"""The console's browser: Debian's chromium package, driven through Playwright (whose own
browsers are never fetched)."""

from __future__ import annotations

import os

import pytest

from tests.helpers import served

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture
def console_page(chromium, users, service_redis):
    """A page of the served console, signed in as alice: (page, the service's URL)."""
    from playwright.sync_api import expect

    from api.main import create_app

    with served(create_app()) as url:
        page = chromium.new_page(viewport={"width": 800, "height": 600})
        page.goto(f"{url}/")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("alice-password")
        page.get_by_label("Password").press("Enter")
        # the first GET /tts/providers of a process imports the providers' SDKs: seconds
        expect(page.get_by_label("Block 1 Text")).to_be_focused(timeout=30_000)
        yield page, url
        page.close()
