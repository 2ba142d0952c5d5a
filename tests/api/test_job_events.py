"""GET /jobs/{job_id}/events: the job's status as server-sent events, woken by the job's
notifications, ending when the job does."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time

import httpx
import pytest
import redis.asyncio as aioredis

from api.job_events import status_events
from api.main import create_app
from tests.helpers import bearer, completed_job_behind_the_api, create_job_behind_the_api, served
from utils.jobs.models import BlockSpec
from utils.jobs.store import JobStore

SPECS = [BlockSpec(f"block {i}", "piper", "en_US-joe-medium") for i in range(3)]


def hgetall_calls(client) -> int:
    return int(client.info("commandstats").get("cmdstat_hgetall", {}).get("calls", 0))


def parse_sse(lines):
    """(event name, data) of each event, and the comment lines, from an SSE body's lines."""
    name, data = None, []
    for line in lines:
        if line.startswith(":"):
            yield ("comment", line)
        elif line.startswith("event:"):
            name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:") :].strip())
        elif line == "" and name is not None:
            yield (name, json.loads("\n".join(data)))
            name, data = None, []


def read_events(url: str, headers: dict, out: queue.Queue) -> None:
    """Every event of the stream into `out`, then "END" once the server ends it."""
    try:
        with httpx.stream("GET", url, headers=headers, timeout=30) as response:
            out.put(("response", response.status_code, response.headers["content-type"]))
            for event in parse_sse(response.iter_lines()):
                out.put(event)
        out.put("END")
    except Exception as exc:  # surfaced by the test's next get()
        out.put(("error", repr(exc)))


def test_events_follow_the_job_woken_by_notifications_and_end_at_completion(service_redis, users):
    app = create_app()
    jobs = JobStore(service_redis, 3600)
    job_id = create_job_behind_the_api(service_redis, "alice", SPECS)
    with served(app) as url, httpx.Client(base_url=url) as client:
        alice = bearer(client, "alice")
        events: queue.Queue = queue.Queue()
        reader = threading.Thread(
            target=read_events, args=(f"{url}/jobs/{job_id}/events", alice, events), daemon=True
        )
        reader.start()
        assert events.get(timeout=10) == ("response", 200, "text/event-stream; charset=utf-8")
        name, first = events.get(timeout=10)
        assert name == "status" and first == client.get(f"/status/{job_id}", headers=alice).json()
        assert first["status"] == "queued" and first["progress"] == "0/3"

        reads_before = hgetall_calls(service_redis)
        time.sleep(1.5)  # nothing happens: a poller would have read the job many times
        assert hgetall_calls(service_redis) - reads_before <= 1
        assert events.empty()

        # A client that leaves gives its place among alice's open streams back.
        assert service_redis.zcard("tts:streams:alice") == 1
        with httpx.stream("GET", f"{url}/jobs/{job_id}/events", headers=alice) as leaving:
            assert next(leaving.iter_lines()).startswith("event: status")
            assert service_redis.zcard("tts:streams:alice") == 2
        deadline = time.monotonic() + 10
        while service_redis.zcard("tts:streams:alice") != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert service_redis.zcard("tts:streams:alice") == 1

        seen = []
        for index in range(3):
            jobs.start_block(jobs.get(job_id), index, worker="test")
            seen.append(events.get(timeout=10)[1])
            assert seen[-1]["blocks"][index]["status"] == "processing"
            result = {"storage_key": f"jobs/{job_id}/b{index}", "n_samples": 1, "n_frames": 1}
            jobs.finish_block(jobs.get(job_id), index, {**result, "duration_ms": 100})
            seen.append(events.get(timeout=10)[1])
            assert seen[-1]["blocks"][index]["status"] == "completed"
            assert seen[-1]["progress"] == f"{index + 1}/3"
        assert seen[0]["status"] == "processing"
        assert events.empty()  # the job is not finished: the stream stays open

        jobs.complete(jobs.get(job_id), f"jobs/{job_id}/final", 300, [(0, 100)] * 3)
        name, last = events.get(timeout=10)
        assert name == "status" and last["status"] == "completed"
        assert last == client.get(f"/status/{job_id}", headers=alice).json()
        assert events.get(timeout=10) == "END"
        reader.join(10)
        # the stream gave back its place among alice's open streams
        assert service_redis.zcard("tts:streams:alice") == 0


def test_a_failed_job_ends_the_stream_with_its_error(service_redis, users):
    app = create_app()
    jobs = JobStore(service_redis, 3600)
    job_id = create_job_behind_the_api(service_redis, "alice", SPECS)
    with served(app) as url, httpx.Client(base_url=url) as client:
        alice = bearer(client, "alice")
        events: queue.Queue = queue.Queue()
        threading.Thread(
            target=read_events, args=(f"{url}/jobs/{job_id}/events", alice, events), daemon=True
        ).start()
        assert events.get(timeout=10)[1] == 200
        assert events.get(timeout=10)[1]["status"] == "queued"
        jobs.fail_block(job_id, 1, "the provider refused the text")
        last = events.get(timeout=10)[1]
        assert last["status"] == "failed"
        assert "block 1: the provider refused the text" in last["error"]
        assert [b["status"] for b in last["blocks"]] == ["skipped", "failed", "skipped"]
        assert events.get(timeout=10) == "END"


def test_a_burst_of_changes_is_one_event(redis_db):
    """Ten blocks finishing together, then the job: far fewer events than changes."""
    jobs = JobStore(redis_db, 3600)
    specs = [BlockSpec(f"b{i}", "piper", "v") for i in range(10)]
    job_id = create_job_behind_the_api(redis_db, "alice", specs)
    port = redis_db.connection_pool.connection_kwargs["port"]
    reads = []

    async def read_status():
        job = await asyncio.to_thread(jobs.get, job_id)
        reads.append(job.done_count)
        return {"status": job.status.value, "done": job.done_count}

    async def scenario():
        client = aioredis.Redis(port=port, db=1, decode_responses=True)
        stream = status_events(client, job_id, read_status, coalesce_s=0.5)
        got = [await anext(stream)]  # subscribed, and the first status sent

        def burst():
            for index in range(10):
                result = {"storage_key": "k", "n_samples": 1, "n_frames": 1}
                jobs.finish_block(jobs.get(job_id), index, result)
            jobs.complete(jobs.get(job_id), "final", 1000, [(0, 100)] * 10)

        await asyncio.to_thread(burst)
        got += [event async for event in stream]
        await client.aclose()
        return got

    got = asyncio.run(scenario())
    datas = [json.loads(e.decode().split("data: ")[1]) for e in got]
    assert datas[0] == {"status": "queued", "done": 0}
    assert datas[-1] == {"status": "completed", "done": 10}
    assert len(got) <= 3, datas  # 11 changes; one read per burst
    assert len(reads) <= 3, reads


def test_keep_alive_comments_in_a_quiet_job(redis_db):
    job_id = create_job_behind_the_api(redis_db, "alice", SPECS[:1])
    port = redis_db.connection_pool.connection_kwargs["port"]

    async def read_status():
        return {"status": "queued"}

    async def scenario():
        client = aioredis.Redis(port=port, db=1, decode_responses=True)
        stream = status_events(client, job_id, read_status, keepalive_s=0.2)
        got = [await anext(stream), await anext(stream), await anext(stream)]
        await stream.aclose()
        await client.aclose()
        return got

    first, second, third = asyncio.run(scenario())
    assert first.startswith(b"event: status\n")
    assert second == third == b": keep-alive\n\n"  # and no repeated event: nothing changed


def test_a_finished_job_gives_one_event_and_ends(app, alice, service_redis):
    storage = app.app.state.storage
    job_id = completed_job_behind_the_api(service_redis, storage, "alice")
    response = app.get(f"/jobs/{job_id}/events", headers=alice)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store, no-transform"
    events = list(parse_sse(response.text.split("\n")))
    assert events == [("status", app.get(f"/status/{job_id}", headers=alice).json())]
    assert events[0][1]["status"] == "completed"


@pytest.mark.parametrize("who", ["bob", None])
def test_only_the_owner_gets_the_events(app, users, service_redis, who):
    job_id = create_job_behind_the_api(service_redis, "alice", SPECS[:1])
    headers = bearer(app, who) if who else {}
    response = app.get(f"/jobs/{job_id}/events", headers=headers)
    assert response.status_code == (404 if who else 401), response.text
    assert app.get(f"/jobs/{job_id}x/events", headers=bearer(app, "alice")).status_code == 422


def test_events_count_against_open_streams(app, users, service_redis):
    job_id = create_job_behind_the_api(service_redis, "alice", SPECS[:1])
    open_streams = app.app.state.open_streams
    for _ in range(open_streams.limit):
        open_streams.acquire("alice")
    response = app.get(f"/jobs/{job_id}/events", headers=bearer(app, "alice"))
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 0
    assert "job events" in response.json()["detail"]
