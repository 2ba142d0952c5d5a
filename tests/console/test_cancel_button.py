"""The console's Cancel button: shown while the followed job runs, it cancels the job
(DELETE /jobs/{id}); the live region says so and the button goes."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.helpers import bearer

pytestmark = pytest.mark.pipeline


def test_a_running_job_is_cancelled_with_the_cancel_button(console_page, worker):
    from playwright.sync_api import expect

    page, url = console_page
    page.get_by_text("Paste a script").press("Enter")
    script = "\n\n".join(
        f"Paragraph number {i} of a script too long to wait for." for i in range(80)
    )
    page.get_by_label("Script").fill(script)
    page.get_by_role("button", name="Make blocks from the script").press("Enter")
    expect(page.get_by_label("Block 80 Text")).to_have_count(1)
    cancel = page.get_by_role("button", name="Cancel job")
    expect(cancel).to_be_hidden()  # no job yet
    page.get_by_role("button", name="Submit job").press("Enter")

    title = page.locator("#job-title")
    expect(title).to_have_text(re.compile(r"^Job [0-9a-f-]{36}$"))
    job_id = title.inner_text().split()[1]
    expect(page.get_by_text("Block 1: completed")).to_be_visible(timeout=60_000)
    expect(cancel).to_be_visible()
    cancel.click()

    expect(page.locator("#progress")).to_contain_text("Job cancelled", timeout=10_000)
    expect(cancel).to_be_hidden()
    expect(page.get_by_text("Block 80: skipped")).to_be_visible()
    with httpx.Client(base_url=url) as client:
        status = client.get(f"/status/{job_id}", headers=bearer(client, "alice")).json()
    assert status["status"] == "cancelled"
    assert sum(b["status"] == "completed" for b in status["blocks"]) < 40
    expect(page.locator("#recent-jobs")).to_contain_text(job_id[:8])
