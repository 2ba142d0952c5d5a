"""Projects through the API: kept per user without expiry, saved with optimistic concurrency
(a stale tab's save refused with the current version), refused past a job's limits, read from
scripts in each format, and rendered as jobs where an unchanged block costs no provider call."""

from __future__ import annotations

import json

import pytest

from tests.helpers import wait_for_job
from utils.names import user_projects_key

BLOCKS = [
    {"text": "The first paragraph.", "provider": "piper", "wait_after_ms": 300},
    {"text": "The second one.", "chapter": "Two", "speed": 1.1},
]


def _create(app, headers, body) -> dict:
    response = app.post("/projects", headers=headers, json=body)
    assert response.status_code == 201, response.text
    assert response.headers["ETag"] == f'"{response.json()["version"]}"'
    return response.json()


def test_a_project_is_kept_listed_and_deleted(app, alice, service_redis):
    made = _create(app, alice, {"title": "Lesson one", "blocks": BLOCKS})
    assert made["version"] == 1 and len({b["id"] for b in made["blocks"]}) == 2
    assert made["blocks"][1]["chapter"] == "Two" and made["blocks"][0]["wait_after_ms"] == 300
    assert service_redis.ttl(user_projects_key("alice")) == -1  # never expires
    listed = app.get("/projects", headers=alice).json()["projects"]
    assert [(p["title"], p["first_words"], p["n_blocks"]) for p in listed] == [
        ("Lesson one", "The first paragraph. The second one.", 2)
    ]
    got = app.get(f"/projects/{made['id']}", headers=alice)
    assert got.json() == made
    assert app.delete(f"/projects/{made['id']}", headers=alice).status_code == 204
    assert app.get(f"/projects/{made['id']}", headers=alice).status_code == 404


def test_a_save_from_a_stale_version_is_refused_with_the_current_one(app, alice):
    made = _create(app, alice, {"title": "Draft", "blocks": BLOCKS})
    path = f"/projects/{made['id']}"
    first = {**made, "title": "Edited in tab one"}
    first = {k: first[k] for k in ("title", "blocks", "version")}
    saved = app.put(path, headers=alice, json=first)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2 and saved.json()["title"] == "Edited in tab one"

    # Tab two still holds version 1: by the body's version, and by If-Match.
    stale = {"title": "Edited in tab two", "blocks": BLOCKS, "version": 1}
    refused = app.put(path, headers=alice, json=stale)
    assert refused.status_code == 409, refused.text
    assert refused.json()["current_version"] == 2 and "version 2" in refused.json()["detail"]
    no_version = {"title": "x", "blocks": BLOCKS}
    refused = app.put(path, headers={**alice, "If-Match": '"1"'}, json=no_version)
    assert refused.status_code == 412 and refused.json()["current_version"] == 2
    assert refused.headers["ETag"] == '"2"'
    assert app.get(path, headers=alice).json()["title"] == "Edited in tab one"  # kept

    unsaid = app.put(path, headers=alice, json=no_version)
    assert unsaid.status_code == 422 and "version" in unsaid.text
    on_top = app.put(path, headers={**alice, "If-Match": '"2"'}, json=no_version)
    assert on_top.status_code == 200 and on_top.json()["version"] == 3


def test_another_users_project_is_not_found(app, alice, bob):
    made = _create(app, alice, {"title": "Mine", "blocks": BLOCKS})
    path = f"/projects/{made['id']}"
    assert app.get(path, headers=bob).status_code == 404
    body = {"blocks": BLOCKS, "version": 1}
    assert app.put(path, headers=bob, json=body).status_code == 404
    assert app.delete(path, headers=bob).status_code == 404
    assert app.post(f"{path}/render", headers=bob).status_code == 404
    assert app.get("/projects", headers=bob).json() == {"projects": []}
    assert app.get(path, headers=alice).status_code == 200


def test_a_project_past_the_block_limit_is_refused_naming_it(app, alice):
    limit = app.app.state.settings.MAX_BLOCKS
    refused = app.post("/projects", headers=alice, json={"blocks": [{"text": "Hi."}] * (limit + 1)})
    assert refused.status_code == 422
    [problem] = refused.json()["detail"]
    assert problem["field"] == "blocks"
    assert f"at most {limit} blocks (MAX_BLOCKS" in problem["msg"]
    script = "\n\n".join(f"Paragraph {n}." for n in range(limit + 1))
    refused = app.post("/projects", headers=alice, json={"script": script})
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "script.blocks"
    too_long = "a" * (app.app.state.settings.MAX_BLOCK_CHARS + 1)
    refused = app.post("/projects", headers=alice, json={"blocks": [BLOCKS[0], {"text": too_long}]})
    assert refused.json()["detail"][0]["field"] == "blocks[1].text"


SCRIPTS = {
    "text": (
        "First line\nstill first.\n\nSecond.\n\n\n",
        None,
        [("First line\nstill first.", None), ("Second.", None)],
    ),
    "markdown": (
        "# The book\n\nIntro *here*.\n\n## Chapter one\n\nIt [begins](https://example.com).\n\n"
        "## Chapter two\n\n- a list item\n",
        "The book",
        [("Intro here.", None), ("It begins.", "Chapter one"), ("a list item", "Chapter two")],
    ),
    "ssml": (
        '<speak version="1.1" xml:lang="en-US"><p>One <break time="200ms"/> two.</p>'
        "<p>Three.</p></speak>",
        None,
        [
            (
                '<speak version="1.1" xml:lang="en-US">'
                '<p>One <break time="200ms" /> two.</p></speak>',
                None,
            ),
            ('<speak version="1.1" xml:lang="en-US"><p>Three.</p></speak>', None),
        ],
    ),
    "json": (
        json.dumps(
            {
                "title": "From JSON",
                "blocks": [
                    {"text": "A.", "voice": "alloy", "provider": "openai"},
                    {"text": "B.", "chapter": "B"},
                ],
            }
        ),
        "From JSON",
        [("A.", None), ("B.", "B")],
    ),
}


@pytest.mark.parametrize("fmt", SCRIPTS)
def test_each_script_format_is_read(app, alice, fmt):
    script, title, expected = SCRIPTS[fmt]
    for given in (fmt, None):  # named, and found from the script itself
        body = {"script": script, **({"script_format": given} if given else {})}
        made = _create(app, alice, body)
        assert made["title"] == title
        assert [(b["text"], b.get("chapter")) for b in made["blocks"]] == expected
    if fmt == "json":
        assert made["blocks"][0]["voice"] == "alloy"
    uploaded = app.post(
        "/projects/import",
        headers=alice,
        files={
            "file": (f"script.{ {'text': 'txt', 'markdown': 'md'}.get(fmt, fmt) }", script.encode())
        },
        data={"title": "Uploaded"},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert [(b["text"], b.get("chapter")) for b in uploaded.json()["blocks"]] == expected
    assert uploaded.json()["title"] == "Uploaded"


def test_a_broken_script_is_refused_saying_where(app, alice):
    bad = {
        "ssml": "<speak><p>unclosed</speak>",
        "json": '{"blocks": [1]}',
        "markdown": "# Only a heading\n",
    }
    for fmt, script in bad.items():
        refused = app.post(
            "/projects", headers=alice, json={"script": script, "script_format": fmt}
        )
        assert refused.status_code == 422, (fmt, refused.text)
        assert refused.json()["detail"][0]["field"].startswith("script"), refused.text
    assert "line 1" in app.post("/projects", headers=alice, json={"script": bad["ssml"]}).text


@pytest.mark.pipeline
def test_a_render_after_one_edit_makes_only_that_block_again(app, alice, worker, simulator):
    blocks = [
        {"text": f"Sentence number {n} of the project.", "provider": "openai", "voice": "alloy"}
        for n in range(1, 5)
    ]
    made = _create(app, alice, {"title": "Render me", "blocks": blocks})
    path = f"/projects/{made['id']}"
    first = app.post(f"{path}/render", headers=alice)
    assert first.status_code == 202, first.text
    assert first.json()["new_blocks"] == [0, 1, 2, 3] and first.json()["cached_blocks"] == []
    assert wait_for_job(app, first.json()["job_id"], alice)["status"] == "completed"
    assert simulator.stats()["tts_requests"] == 4

    edited = [dict(b) for b in made["blocks"]]
    edited[2]["text"] = "An edited third sentence."
    saved = app.put(path, headers=alice, json={"blocks": edited, "version": 1})
    assert saved.status_code == 200
    again = app.post(f"{path}/render", headers=alice).json()
    assert again["new_blocks"] == [2] and again["cached_blocks"] == [0, 1, 3]
    assert [b["made"] for b in again["blocks"]] == ["cached", "cached", "new", "cached"]
    status = wait_for_job(app, again["job_id"], alice)
    assert status["status"] == "completed"
    assert [b["cached"] for b in status["blocks"]] == [True, True, False, True]
    stats = simulator.stats()
    assert stats["tts_requests"] == 5  # one call more: the edited block's
    assert stats["recent"][-1]["text"] == "An edited third sentence."
    assert app.get(path, headers=alice).json()["last_render"] == {
        "job_id": again["job_id"],
        "version": 2,
    }


def test_a_render_names_the_block_it_cannot_make(app, alice):
    made = _create(app, alice, {"blocks": [BLOCKS[0], {"text": "!!!"}]})
    refused = app.post(f"/projects/{made['id']}/render", headers=alice)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "blocks[1].text"
