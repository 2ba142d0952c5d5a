"""The studio in Debian's Chromium: a project made from a pasted script, rendered, one
paragraph edited and made again alone (counted at the provider), read along (the highlighted
sentence checked against the job's timings at three positions; a sentence clicked to seek;
chapters), a voice previewed, and the layout checked by axe-core in light and dark mode and at
a phone's width. One service and one browser page for the module; screenshots are kept in
$TTS_TEST_ARTIFACTS (default: a temporary folder of the run)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest

from api.main import create_app
from tests.helpers import bearer, served

pytestmark = pytest.mark.pipeline

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
SCRIPT = """# A short course

## Chapter one

The first lesson starts here. It has two sentences.

Then a second paragraph follows. It is short.

## Chapter two

The third paragraph opens the next chapter. It ends soon.

A last paragraph closes the course. Thank you for listening.
"""


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    folder = os.environ.get("TTS_TEST_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("studio-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def studio(chromium, worker, simulator_server, redis_server):
    """A served API, and a page of it signed in as a user of this module."""
    import redis
    from playwright.sync_api import expect

    from utils.auth.users import UserStore

    client = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    UserStore(client).set_password("studio", "studio-password")
    with served(create_app()) as url:
        page = chromium.new_page(viewport={"width": 1100, "height": 900})
        problems = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{url}/")
        page.get_by_label("Username").fill("studio")
        page.get_by_label("Password").fill("studio-password")
        page.get_by_label("Password").press("Enter")
        expect(page.get_by_text("Signed in as studio")).to_be_visible(timeout=30_000)
        with httpx.Client(base_url=url, timeout=30) as api:
            yield page, url, api, bearer(api, "studio")
        page.close()
        assert problems == []
    client.close()


def _job_id(page) -> str:
    return page.locator("#studio-player").get_attribute("data-job-id")


def _rendered(page, before: str | None = None) -> str:
    page.wait_for_function(
        "before => { const a = document.getElementById('studio-player');"
        " return a.dataset.jobId && a.dataset.jobId !== before && a.readyState >= 1"
        " && document.querySelectorAll('#read-along .sentence').length > 0; }",
        arg=before,
        timeout=120_000,
    )
    return _job_id(page)


def test_a_pasted_script_is_rendered_and_one_edited_paragraph_made_again(studio, artifacts):
    from playwright.sync_api import expect

    page, _, api, headers = studio
    page.get_by_role("button", name="Projects").click()
    page.get_by_label("Title of the new project").fill("A short course")
    page.get_by_label("Text of the new project").fill(SCRIPT)
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_label("Paragraph 4 Text")).to_have_value(re.compile("^A last paragraph"))
    expect(page.get_by_label("Paragraph 5 Text")).to_have_count(0)
    expect(page.get_by_label("Paragraph 3 Opens chapter")).to_have_value("Chapter two")
    expect(page.locator("#project-list")).to_contain_text("A short course")
    for n in range(1, 5):  # the simulated OpenAI: its calls are counted
        page.get_by_label(f"Paragraph {n} Provider").select_option("openai")
        expect(page.get_by_label(f"Paragraph {n} Voice")).to_have_value("alloy")

    calls = simulator_calls(studio)
    page.get_by_role("button", name="Render", exact=True).click()
    status = page.locator("#project-status")
    expect(status).to_contain_text("made again: 1, 2, 3, 4; 0 from the cache")
    first_job = _rendered(page)
    assert simulator_calls(studio) - calls == 4
    page.screenshot(path=str(artifacts / "studio-rendered.png"), full_page=True)

    page.get_by_label("Paragraph 3 Text").fill("The third paragraph was edited. It is new now.")
    calls = simulator_calls(studio)
    page.get_by_role("button", name="Regenerate paragraph 3").click()
    expect(status).to_contain_text(
        "Paragraph 3: rendering version 3: made again: 3; 3 from the cache"
    )
    second_job = _rendered(page, first_job)
    assert simulator_calls(studio) - calls == 1  # the edited paragraph alone
    job = api.get(f"/status/{second_job}", headers=headers).json()
    assert [b["cached"] for b in job["blocks"]] == [True, True, False, True]
    expect(page.locator("#read-along")).to_contain_text("The third paragraph was edited.")


def simulator_calls(studio) -> int:
    _, url, api, _ = studio
    from tests.conftest import SIMULATOR_URL

    return httpx.get(f"{SIMULATOR_URL}/_sim/stats").json()["tts_requests"]


def test_the_highlight_follows_playback_and_a_click_seeks(studio):
    page, _, api, headers = studio
    job_id = _job_id(page)
    timings = api.get(f"/result/{job_id}/timings", headers=headers).json()
    sentences = timings["sentences"]
    assert len(sentences) >= 8
    player = "document.getElementById('studio-player')"
    for sentence in (sentences[0], sentences[len(sentences) // 2], sentences[-1]):
        middle = (sentence["start_ms"] + sentence["end_ms"]) / 2000
        page.evaluate(f"t => {{ {player}.pause(); {player}.currentTime = t; }}", middle)
        page.wait_for_function(
            "start => document.querySelector('#read-along .sentence.current')?.dataset.startMs"
            " === String(start)",
            arg=sentence["start_ms"],
            timeout=10_000,
        )
        current = page.locator("#read-along .sentence.current")
        assert current.inner_text().strip() == sentence["text"].strip()
        assert current.get_attribute("aria-current") == "true"
    if timings["words"]:  # the word being said, inside its sentence
        word = next(w for w in timings["words"] if w["block"] == sentences[-1]["block"])
        middle = (word["start_ms"] + word["end_ms"]) / 2000
        page.evaluate(f"t => {{ {player}.currentTime = t; }}", middle)
        page.wait_for_function(
            "text => document.querySelector('.word.current-word')?.textContent === text",
            arg=word["text"],
        )

    # A click on a sentence plays from its start.
    target = sentences[3]
    page.locator(f'#read-along .sentence[data-start-ms="{target["start_ms"]}"]').click()
    at_ms = page.evaluate(f"{player}.currentTime") * 1000
    assert target["start_ms"] <= at_ms < target["end_ms"], (at_ms, target)
    page.evaluate(f"{player}.pause()")
    assert page.locator("#read-along .sentence.current").get_attribute("data-start-ms") == str(
        target["start_ms"]
    )

    # Chapters: listed, and seekable.
    result = api.get(f"/result/{job_id}", headers=headers).json()
    assert [c["title"] for c in result["chapters"]] == ["Chapter one", "Chapter two"]
    page.get_by_role("button", name=re.compile("^Chapter two")).click()
    at_ms = page.evaluate(f"{player}.currentTime") * 1000
    page.evaluate(f"{player}.pause()")
    assert abs(at_ms - result["chapters"][1]["start_ms"]) < 300
    # the timeline: a block each, a pause where there is one, a mark per chapter
    assert page.locator("#timeline .tl-block").count() == len(result["blocks"])
    assert page.locator("#timeline .tl-chapter").count() == 2


def test_a_voice_preview_plays(studio):
    from playwright.sync_api import expect

    page, *_ = studio
    # Every voice list but openai's answers a second late, so the list asked for first arrives
    # after the one chosen next: the later choice must be the one shown.
    page.evaluate(
        """() => { const fetchNow = (window.fetchNow = window.fetch);
        window.fetch = async (path, options) => {
          if (/^\\/tts\\/voices\\/(?!openai)[^/]+$/.test(path)) {
            await new Promise((resolve) => setTimeout(resolve, 1000));
          }
          return fetchNow(path, options); }; }"""
    )
    page.get_by_role("button", name="Voices").click()
    provider = page.get_by_label("Provider", exact=True)
    shown = provider.input_value()
    others = [o for o in provider.locator("option").all_inner_texts() if o not in ("openai", shown)]
    provider.select_option(others[0])  # not yet fetched by any block: it answers late
    provider.select_option("openai")
    expect(page.locator("#voice-count")).to_contain_text("voices of openai")
    page.wait_for_timeout(1500)  # the late list has arrived by now
    expect(page.locator("#voice-count")).to_contain_text("voices of openai")
    page.evaluate("() => { window.fetch = window.fetchNow; }")
    page.get_by_role("button", name="Preview Nova").click()
    page.wait_for_function(
        "() => { const a = document.getElementById('preview-player');"
        " return a.dataset.voice === 'nova' && a.readyState >= 1 && a.duration > 0.5; }",
        timeout=60_000,
    )
    assert page.evaluate("document.getElementById('preview-player').src").startswith("blob:")


def _axe(page) -> list:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: cd tests/console && npm ci (as `make test` does)")
    page.evaluate(AXE.read_text())
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"
    )
    return found


def test_the_layout_is_accessible_in_both_themes_and_fits_a_phone(studio, artifacts):
    page, *_ = studio
    page.get_by_role("button", name="Projects").click()
    toggle = page.get_by_role("button", name="Dark mode")
    for theme in ("light", "dark"):
        if (toggle.get_attribute("aria-pressed") == "true") != (theme == "dark"):
            toggle.click()
        assert page.evaluate("getComputedStyle(document.body).colorScheme") in (theme, "normal")
        for view in ("Projects", "Voices", "Quick job"):
            page.get_by_role("button", name=view, exact=True).click()
            assert _axe(page) == [], (theme, view)
        page.get_by_role("button", name="Projects").click()
        page.screenshot(path=str(artifacts / f"studio-{theme}.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    for view in ("Projects", "Voices", "Quick job"):
        page.get_by_role("button", name=view, exact=True).click()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (view, overflow)
        page.screenshot(path=str(artifacts / f"studio-phone-{view.lower()}.png"), full_page=True)
