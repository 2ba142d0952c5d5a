"""The audio endpoints: HEAD as media players and CDNs send it, audio served from a backend with
no local file (every handle closed), and audio that was purged."""

import pytest

from api.deps import get_storage
from tests.helpers import completed_job_behind_the_api, create_job_behind_the_api
from utils.errors import StorageError
from utils.jobs.models import BlockSpec
from utils.names import job_key
from utils.storage.base import Storage
from utils.storage.keys import block_audio_key, final_audio_key


class RemoteOnly(Storage):
    """Local storage seen as a remote backend: no local path, so the API streams from open(),
    and every handle it opens is kept to check it was closed."""

    name = "remote"

    def __init__(self, inner: Storage):
        self.inner = inner
        self.handles = []

    def open(self, key):
        self.handles.append(self.inner.open(key))
        return self.handles[-1]

    def put_bytes(self, key, data):
        self.inner.put_bytes(key, data)

    def put_file(self, key, path):
        self.inner.put_file(key, path)

    def copy(self, source_key, target_key):
        self.inner.copy(source_key, target_key)

    def purge(self, prefix, older_than_s, now=None):
        return self.inner.purge(prefix, older_than_s, now)


@pytest.fixture
def storage(app):
    return app.app.state.storage


@pytest.fixture
def remote(app, storage):
    remote = RemoteOnly(storage)
    app.app.dependency_overrides[get_storage] = lambda: remote
    yield remote
    app.app.dependency_overrides.pop(get_storage)


@pytest.fixture
def job_id(service_redis, storage, users):
    return completed_job_behind_the_api(service_redis, storage, "alice")


def audio_paths(job_id: str) -> list[str]:
    return [
        f"/result/{job_id}/audio",
        f"/result/{job_id}/audio?stream=true",
        f"/result/{job_id}/block/0/audio",
        f"/result/{job_id}/block/1/audio",
    ]


def assert_head_is_get_without_body(app, headers, path):
    got, head = app.get(path, headers=headers), app.head(path, headers=headers)
    assert got.status_code == head.status_code == 200, (path, got.text, head.text)
    assert got.content and head.content == b""
    for name in ("content-type", "content-disposition", "content-length"):
        assert head.headers[name] == got.headers[name], (path, name)
    assert int(head.headers["content-length"]) == len(got.content)


def test_head_answers_like_get_without_a_body(app, alice, job_id):
    for path in audio_paths(job_id):
        assert_head_is_get_without_body(app, alice, path)
    head = app.head(f"/result/{job_id}/audio", headers=alice)
    assert head.headers["accept-ranges"] == "bytes"  # a player may seek


def test_head_answers_like_get_from_a_backend_without_local_files(app, alice, job_id, remote):
    for path in audio_paths(job_id):
        assert_head_is_get_without_body(app, alice, path)
    assert len(remote.handles) == 2 * len(audio_paths(job_id))


def test_head_of_a_stream_answers_at_once_while_the_job_runs(app, alice, service_redis, users):
    job_id = create_job_behind_the_api(service_redis, "alice", [BlockSpec("Hi.", "piper", "v")])
    head = app.head(f"/result/{job_id}/audio?stream=true", headers=alice)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "audio/mpeg"
    assert head.headers["cache-control"] == "no-store"
    assert "content-length" not in head.headers  # unknown yet, and certainly not 0


def test_head_refuses_what_get_refuses(app, alice, bob, job_id):
    assert app.head(f"/result/{job_id}/audio").status_code == 401
    assert app.head(f"/result/{job_id}/audio", headers=bob).status_code == 404
    assert app.head(f"/result/{job_id}/block/2/audio", headers=alice).status_code == 404


def test_every_handle_opened_for_streaming_is_closed(app, alice, job_id, remote, storage):
    for path in audio_paths(job_id):
        response = app.get(path, headers=alice)
        assert response.status_code == 200
    assert len(remote.handles) == len(audio_paths(job_id))
    assert all(handle.closed for handle in remote.handles)
    stored = storage.local_path(final_audio_key(job_id)).read_bytes()
    assert app.get(audio_paths(job_id)[0], headers=alice).content == stored


def test_a_client_that_stops_reading_leaves_no_handle_open(storage, job_id):
    from api.byte_ranges import _chunks

    handle = storage.open(final_audio_key(job_id))
    chunks = _chunks(handle, None)
    assert next(chunks)
    chunks.close()  # what the server does with a response whose client went away
    assert handle.closed


@pytest.mark.parametrize("backend", ["local", "remote"])
def test_range_requests_are_answered_from_any_backend(app, alice, job_id, request, backend):
    if backend == "remote":
        remote = request.getfixturevalue("remote")
    path = f"/result/{job_id}/audio"
    whole = app.get(path, headers=alice).content
    size = len(whole)
    for asked, start, end in [
        ("bytes=10-19", 10, 20),
        ("bytes=100-", 100, size),
        ("bytes=-7", size - 7, size),
        (f"bytes=5-{size + 100}", 5, size),  # past the end: up to the end
    ]:
        part = app.get(path, headers={**alice, "Range": asked})
        assert part.status_code == 206, (asked, part.text)
        assert part.content == whole[start:end], asked
        assert part.headers["content-range"] == f"bytes {start}-{end - 1}/{size}"
        assert int(part.headers["content-length"]) == end - start
    beyond = app.get(path, headers={**alice, "Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"
    if backend == "remote":
        # several ranges, or another unit: the whole object, as a server may answer
        for asked in ("bytes=0-1,5-6", "items=0-1"):
            assert app.get(path, headers={**alice, "Range": asked}).content == whole
        assert remote.handles and all(handle.closed for handle in remote.handles)


def test_a_store_that_fails_is_503_naming_no_secret(app, alice, job_id, remote):
    def failing(key):
        raise StorageError(f"s3 read of {key} failed: AccessDenied")

    remote.open = failing
    response = app.get(f"/result/{job_id}/audio", headers=alice)
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.json() == {"detail": "audio storage unavailable, try again shortly"}


@pytest.mark.parametrize("backend", ["local", "remote"])
def test_purged_audio_is_404_saying_so(
    app, alice, job_id, storage, service_redis, request, backend
):
    if backend == "remote":
        request.getfixturevalue("remote")
    for key in (final_audio_key(job_id), block_audio_key(job_id, 1)):
        storage.local_path(key).unlink()
    service_redis.hset(job_key(job_id), "purged", "1")  # as a purge notes it on the job
    for path, what in [
        (f"/result/{job_id}/audio", f"the audio of job {job_id}"),
        (f"/result/{job_id}/audio?stream=true", f"the audio of job {job_id}"),
        (f"/result/{job_id}/block/1/audio", f"the audio of block 1 of job {job_id}"),
    ]:
        for method in ("GET", "HEAD"):
            response = app.request(method, path, headers=alice)
            assert response.status_code == 404, (method, path, response.text)
        assert app.get(path, headers=alice).json() == {
            "detail": f"{what} is no longer stored (purged); submit the job again"
        }
    assert app.get(f"/result/{job_id}/block/0/audio", headers=alice).status_code == 200
