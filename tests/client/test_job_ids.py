"""A job named by the start of its id, as git takes commit ids: the library's resolve_job_id
against the running service, and the `tts` commands that take an id; `tts jobs` shows ids
just long enough to tell apart the jobs it shows."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from tts_client import AmbiguousJobId, AsyncTTSClient, NotFound, TTSClient
from tts_client._job_ids import short_ids

# Written straight into the job store with ids chosen to share their starts; oldest first.
TWIN_A = "abcd1234-aaaa-4000-8000-000000000001"
TWIN_B = "abcd1234-bbbb-4000-8000-000000000002"
OTHER = "0123abcd-cccc-4000-8000-000000000003"


@pytest.fixture
def alices_jobs(service_redis, users):
    from utils.jobs.models import BlockSpec
    from utils.jobs.store import JobStore

    store = JobStore(service_redis, 3600)
    for job_id in (TWIN_A, TWIN_B, OTHER):
        store.create(job_id, "alice", "mp3_24000_64", [BlockSpec("Hi.", "piper", "v")])
    return [OTHER, TWIN_B, TWIN_A]  # as GET /jobs lists them: newest first


class CountingTransport(httpx.HTTPTransport):
    def __init__(self):
        super().__init__()
        self.paths: list[str] = []

    def handle_request(self, request):
        self.paths.append(request.url.path)
        return super().handle_request(request)


def test_a_start_names_one_job_a_full_id_asks_nothing(service_url, alices_jobs):
    transport = CountingTransport()
    with TTSClient(service_url, username="alice", password="alice-password",
                   transport=transport) as tts:  # fmt: skip
        assert tts.resolve_job_id(TWIN_A) == TWIN_A
        assert tts.resolve_job_id(TWIN_A.upper()) == TWIN_A.upper()  # the server reads both
        assert transport.paths == []  # not even a token: nothing was asked
        assert tts.resolve_job_id("0123") == OTHER
        assert tts.resolve_job_id("ABCD1234-B") == TWIN_B
        assert "/jobs" in transport.paths
        with pytest.raises(AmbiguousJobId) as ambiguous:
            tts.resolve_job_id("abcd")
        with pytest.raises(NotFound, match="none of your jobs"):
            tts.resolve_job_id("ffff")
        transport.paths.clear()
        with pytest.raises(NotFound, match="hexadecimal"):
            tts.resolve_job_id("my-job")
        assert transport.paths == []  # no id starts so: no need to list
        with pytest.raises(ValueError):
            tts.resolve_job_id("  ")
    assert [job.job_id for job in ambiguous.value.candidates] == [TWIN_B, TWIN_A]
    assert TWIN_A in str(ambiguous.value) and TWIN_B in str(ambiguous.value)
    bob = TTSClient(service_url, username="bob", password="bob-password")
    with bob, pytest.raises(NotFound):  # alice's jobs are not bob's to name
        bob.resolve_job_id("0123")


def test_the_async_client_resolves_the_same(service_url, alices_jobs):
    async def run():
        async with AsyncTTSClient(service_url, username="alice", password="alice-password") as t:
            found = await t.resolve_job_id("0123ab")
            with pytest.raises(AmbiguousJobId):
                await t.resolve_job_id("abcd1234-")
            return found, await t.resolve_job_id(TWIN_B)

    assert asyncio.run(run()) == (OTHER, TWIN_B)


def test_the_commands_take_a_start_and_jobs_shows_starts_they_take(service_url, alices_jobs, tts):
    login = ("login", "--url", service_url, "--username", "alice", "--password", "alice-password")
    assert tts(*login)[0] == 0

    # the shortest length that tells the three apart: the twins differ at their 10th character
    code, out, _ = tts("jobs", COLUMNS="60")  # narrow: other columns give way, not the ids
    assert code == 0
    assert [line.split()[1] for line in out.splitlines() if "queued" in line] == [
        "0123abcd-c",
        "abcd1234-b",
        "abcd1234-a",
    ]
    code, out, _ = tts("jobs", "--full")
    assert code == 0 and all(job_id in out for job_id in alices_jobs)

    code, out, _ = tts("status", "abcd1234-a")
    assert code == 0 and f"{TWIN_A}  queued  0/1 blocks" in out
    code, _, err = tts("status", "abcd")
    assert code == 2
    assert "error: job id 'abcd' is ambiguous" in err and TWIN_A in err and TWIN_B in err
    code, _, err = tts("download", "ffff")
    assert code == 4 and "none of your jobs has an id starting with 'ffff'" in err
    code, _, err = tts("retry", "0123")  # found: then the service says why not
    assert code == 1 and f"job {OTHER} is queued" in err


def test_short_ids_are_one_length_the_shortest_that_tells_them_apart():
    assert short_ids([]) == []
    assert short_ids(["0123456789", "abcdef0123"]) == ["01234567", "abcdef01"]
    assert short_ids(["aaaaaaaa1x", "aaaaaaaa2x", "b" * 10]) == ["aaaaaaaa1", "aaaaaaaa2", "b" * 9]
    assert short_ids(["same", "same"]) == ["same", "same"]  # one job listed twice: no loop
