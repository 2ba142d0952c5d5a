"""GET /jobs: a user's own jobs, newest first, by cursor or offset; expired jobs pruned."""

from __future__ import annotations

from tests.helpers import create_job_behind_the_api
from utils.jobs.models import BlockSpec
from utils.names import job_key, user_jobs_key

SPEC = BlockSpec("Hello.", "piper", "en_US-joe-medium")


def make_jobs(redis, owner: str, n: int) -> list[str]:
    """n jobs, oldest first."""
    return [create_job_behind_the_api(redis, owner, [SPEC] * (i + 1)) for i in range(n)]


def test_pages_by_cursor_and_by_offset_list_each_job_once_newest_first(
    app, alice, bob, service_redis
):
    ids = make_jobs(service_redis, "alice", 5)
    bobs = make_jobs(service_redis, "bob", 1)
    newest_first = ids[::-1]

    seen, cursor = [], None
    for _ in range(5):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = app.get("/jobs", params=params, headers=alice).json()
        seen.append([j["job_id"] for j in body["jobs"]])
        cursor = body.get("next_cursor")
        if cursor is None:
            break
    assert seen == [newest_first[0:2], newest_first[2:4], newest_first[4:]]

    by_offset = app.get("/jobs", params={"limit": 2, "offset": 2}, headers=alice).json()
    assert [j["job_id"] for j in by_offset["jobs"]] == newest_first[2:4]
    assert by_offset["next_offset"] == 4

    first = app.get("/jobs", headers=alice).json()["jobs"][0]
    assert first["job_id"] == ids[-1]
    assert first["status"] == "queued"
    assert first["progress"] == "0/5" and first["n_blocks"] == 5
    assert first["output_format"] == "mp3_24000_64"
    assert first["created_at"]

    # isolation: each sees only their own
    assert [j["job_id"] for j in app.get("/jobs", headers=bob).json()["jobs"]] == bobs
    assert app.get("/jobs").status_code == 401


def test_expired_jobs_are_pruned_and_bad_parameters_named(app, alice, service_redis):
    ids = make_jobs(service_redis, "alice", 4)
    service_redis.delete(job_key(ids[2]), job_key(ids[1]))  # as if their TTL had passed
    body = app.get("/jobs", params={"limit": 2}, headers=alice).json()
    assert [j["job_id"] for j in body["jobs"]] == [ids[3], ids[0]]
    assert "next_cursor" not in body
    assert service_redis.zrange(user_jobs_key("alice"), 0, -1) == [ids[0], ids[3]]
    assert service_redis.ttl(user_jobs_key("alice")) > 0  # expires with the newest job

    # a bad cursor, or both cursor and offset, is a 422 naming the parameter
    bad = app.get("/jobs", params={"cursor": "not-a-cursor"}, headers=alice)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "cursor"
    assert bad.json()["detail"][0]["loc"] == ["query", "cursor"]
    both = app.get("/jobs", params={"cursor": "x", "offset": 1}, headers=alice)
    assert both.status_code == 422 and both.json()["detail"][0]["field"] == "offset"
    too_many = app.get("/jobs", params={"limit": 1000}, headers=alice)
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["field"] == "limit"
    # an offset past anything a store holds (schemathesis sent 2**63 - 1): named, not a 503
    huge = app.get("/jobs", params={"offset": 2**63 - 1}, headers=alice)
    assert huge.status_code == 422 and huge.json()["detail"][0]["field"] == "offset"
    past_the_end = app.get("/jobs", params={"offset": 1_000_000}, headers=alice)
    assert past_the_end.status_code == 200 and past_the_end.json()["jobs"] == []
