"""The console's refusals, seen and heard where the reader is, in the form's own words; and the
bounds of its number fields, which are the API's (read from /openapi.json, never written
twice)."""

from __future__ import annotations

import re

import httpx

from tests.helpers import bearer

PARAGRAPHS = [f"Paragraph number {n}." for n in range(1, 6)] + ["!!!"]


def test_a_refusal_is_brought_into_view_focused_and_names_block_6(console_page):
    from playwright.sync_api import expect

    page, _ = console_page
    page.get_by_text("Paste a script").press("Enter")
    page.get_by_label("Script").fill("\n\n".join(PARAGRAPHS))
    page.get_by_role("button", name="Make blocks from the script").press("Enter")
    expect(page.get_by_label("Block 6 Text")).to_have_value("!!!")
    submit = page.get_by_role("button", name="Submit job")
    submit.focus()
    # The form is taller than the window: at Submit, the top of the page (where the error
    # region is, above the form's heading) is out of view.
    assert page.locator("#compose-title").bounding_box()["y"] < 0

    page.keyboard.press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The job was refused:")
    expect(alert).to_contain_text("Block 6, text: has nothing to speak")
    expect(alert).not_to_contain_text("blocks[")
    expect(alert).to_be_focused()
    expect(alert).to_be_in_viewport()
    assert page.locator("#job").is_hidden()

    # The field is marked, described by its problem, and the problem leads to it.
    text = page.get_by_label("Block 6 Text")
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(text).to_have_accessible_description(re.compile("^Block 6, text: has nothing"))
    expect(page.get_by_label("Block 5 Text")).not_to_have_attribute("aria-invalid", "true")
    page.get_by_role("link", name=re.compile("^Block 6, text")).press("Enter")
    expect(text).to_be_focused()
    expect(text).to_be_in_viewport()
    page.keyboard.type(" Now there is something to say.")
    expect(text).not_to_have_attribute("aria-invalid", "true")  # edited: no longer marked


def test_the_apis_field_names_are_said_in_the_forms_words(console_page):
    page, _ = console_page
    said = page.evaluate(
        """async () => {
            const { inFormWords } = await import("/console/problems.js");
            return inFormWords(
                "blocks[5].speed: must be between 0.5 and 2.0, got 3.0; blocks[0].wait_after_ms:"
                + " too long; blocks[11]: must be an object; blocks[2].chapter: too long;"
                + " blocks: ok"
            );
        }"""
    )
    assert said == (
        "Block 6, speed: must be between 0.5 and 2.0, got 3.0; Block 1, pause after: too long;"
        " Block 12: must be an object; Block 3, chapter: too long; blocks: ok"
    )


def test_the_number_fields_keep_the_apis_bounds(console_page):
    from playwright.sync_api import expect

    page, url = console_page
    schema = httpx.get(f"{url}/openapi.json").json()
    properties = schema["components"]["schemas"]["BlockIn"]["properties"]
    for label, name in (("Speed", "speed"), ("Pause after", "wait_after_ms")):
        bounds = properties[name]["minimum"], properties[name]["maximum"]
        for n in (1, 2):
            if n == 2:
                page.get_by_role("button", name="Add block").press("Enter")
            shown = page.get_by_label(f"Block {n} {label}")
            assert (float(shown.get_attribute("min")), float(shown.get_attribute("max"))) == bounds

    # Those bounds are what the API enforces: the service refuses a value just past each.
    speed, pause = properties["speed"], properties["wait_after_ms"]
    past = [
        ("speed", speed["minimum"] - 0.01),
        ("speed", speed["maximum"] + 0.01),
        ("wait_after_ms", pause["minimum"] - 1),
        ("wait_after_ms", pause["maximum"] + 1),
    ]
    with httpx.Client(base_url=url) as client:
        headers = bearer(client, "alice")
        for name, value in past:
            body = {"blocks": [{"text": "Hello.", name: value}]}
            refused = client.post("/tts", json=body, headers=headers)
            assert refused.status_code == 422, (name, value, refused.text)
            assert [p["field"] for p in refused.json()["detail"]] == [f"blocks[0].{name}"]

    # and the browser keeps to them: a speed past the maximum is not sent.
    page.get_by_label("Block 1 Text").fill("Too fast.")
    page.get_by_label("Block 2 Text").fill("Fine.")
    page.get_by_label("Block 1 Speed").fill(str(speed["maximum"] + 0.5))
    page.get_by_role("button", name="Submit job").press("Enter")
    expect(page.get_by_label("Block 1 Speed")).to_be_focused()
    assert page.get_by_label("Block 1 Speed").evaluate("e => e.validity.rangeOverflow")
    assert page.locator("#job").is_hidden()
