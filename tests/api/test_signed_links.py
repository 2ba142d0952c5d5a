"""Signed audio links: the final audio, as a file or streamed, by a URL with no token in it, for
that one job, until it expires; anything else about the link is refused, saying why."""

import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from config import get_settings
from tests.helpers import completed_job_behind_the_api, create_job_behind_the_api
from utils.audio.formats import OutputFormat
from utils.audio.mp3_frames import silence_frame
from utils.auth import links
from utils.jobs.models import BlockSpec
from utils.jobs.store import JobStore
from utils.storage.keys import block_audio_key


@pytest.fixture
def storage(app):
    return app.app.state.storage


@pytest.fixture
def job_id(service_redis, storage, users):
    return completed_job_behind_the_api(service_redis, storage, "alice")


def link_query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def audio_path(job_id: str, exp, sig, stream: bool = False) -> str:
    return f"/result/{job_id}/audio?{'stream=true&' if stream else ''}exp={exp}&sig={sig}"


def test_the_result_gives_a_signed_url_that_needs_no_token(app, alice, job_id):
    before = int(time.time())
    result = app.get(f"/result/{job_id}", headers=alice).json()
    url = urlsplit(result["signed_url"])
    assert (url.scheme, url.netloc, url.path) == ("http", "testserver", f"/result/{job_id}/audio")
    query = link_query(result["signed_url"])
    assert set(query) == {"exp", "sig"} and len(query["sig"]) == 64
    exp = int(query["exp"])
    assert before + 3600 <= exp <= int(time.time()) + 3600
    expires_at = datetime.fromisoformat(result["signed_url_expires_at"].replace("Z", "+00:00"))
    assert expires_at == datetime.fromtimestamp(exp, UTC)

    with_token = app.get(f"/result/{job_id}/audio", headers=alice)
    signed = app.get(result["signed_url"])  # no Authorization header
    assert signed.status_code == 200 and signed.content == with_token.content
    assert app.head(result["signed_url"]).headers["content-length"] == str(len(signed.content))
    ranged = app.get(result["signed_url"], headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and ranged.content == signed.content[:100]


def test_a_signed_url_streams_the_audio_while_the_job_runs(app, alice, service_redis, storage):
    """The stream_url of POST /tts plays in an <audio> element: no token, block by block."""
    response = app.post("/tts", headers=alice, json={"blocks": [{"text": "Hello."}]})
    assert response.status_code == 202, response.text
    job_id, stream_url = response.json()["job_id"], response.json()["stream_url"]
    assert set(link_query(stream_url)) == {"stream", "exp", "sig"}
    head = app.head(stream_url)
    assert head.status_code == 200 and head.headers["cache-control"] == "no-store"

    # block 0 is stored, as a worker would, and the job has not completed
    jobs = JobStore(service_redis, 3600)
    audio = silence_frame(OutputFormat.parse("mp3_24000_64")) * 5
    storage.put_bytes(block_audio_key(job_id, 0), audio)
    result = {"storage_key": block_audio_key(job_id, 0), "n_frames": 5, "n_samples": 5 * 576}
    jobs.finish_block(jobs.get(job_id), 0, {**result, "duration_ms": 120})
    assert jobs.get(job_id).status.value != "completed"
    streamed = app.get(stream_url)
    assert streamed.status_code == 200, streamed.text
    assert streamed.content.startswith(audio)
    assert streamed.headers["cache-control"] == "no-store"


def test_a_link_works_for_whoever_holds_it(app, bob, job_id):
    assert app.get(f"/result/{job_id}", headers=bob).status_code == 404  # not bob's link...
    link = links.sign(job_id, links.AUDIO, get_settings())
    response = app.get(audio_path(job_id, link.expires_at, link.signature), headers=bob)
    assert response.status_code == 200  # ...but alice may share hers with him


def test_a_link_for_another_job_or_changed_or_expired_is_refused(app, job_id, service_redis):
    other = create_job_behind_the_api(service_redis, "alice", [BlockSpec("Hi.", "piper", "v")])
    settings = get_settings()
    good = links.sign(job_id, links.AUDIO, settings)
    flipped = ("0" if good.signature[0] != "0" else "1") + good.signature[1:]
    expired = links.sign(job_id, links.AUDIO, settings, now=time.time() - 2 * 3600)
    mismatch = "invalid link: the signature does not match this job's audio link"
    cases = [
        (audio_path(other, good.expires_at, good.signature), mismatch),
        (audio_path(other, good.expires_at, good.signature, stream=True), mismatch),
        (audio_path(job_id, good.expires_at, flipped), mismatch),
        (audio_path(job_id, good.expires_at + 3600, good.signature), mismatch),
        (audio_path(job_id, good.expires_at, good.signature.upper()), mismatch),
        (audio_path(job_id, good.expires_at, "é" * 64), mismatch),
        (audio_path(job_id, expired.expires_at, expired.signature), "link expired at"),
        (f"/result/{job_id}/audio?sig={good.signature}", "a signed link needs both exp and sig"),
        (f"/result/{job_id}/audio?exp={good.expires_at}", "a signed link needs both exp and sig"),
    ]
    for path, message in cases:
        for method in ("GET", "HEAD"):
            response = app.request(method, path)
            assert response.status_code == 403, (method, path, response.text)
        assert app.get(path).json()["detail"].startswith(message), path
    assert app.get(audio_path(job_id, good.expires_at, good.signature)).status_code == 200


def test_a_link_grants_the_final_audio_and_nothing_else(app, job_id):
    link = links.sign(job_id, links.AUDIO, get_settings())
    query = f"exp={link.expires_at}&sig={link.signature}"
    for path in (f"/result/{job_id}", f"/status/{job_id}", f"/result/{job_id}/block/0/audio"):
        assert app.get(f"{path}?{query}").status_code == 401, path


def test_a_link_signed_with_another_key_is_refused(app, job_id):
    other_key = get_settings().model_copy(update={"SECRET_KEY": SecretStr("another-key" * 4)})
    link = links.sign(job_id, links.AUDIO, other_key)
    assert app.get(audio_path(job_id, link.expires_at, link.signature)).status_code == 403


def test_signatures_are_compared_in_constant_time(monkeypatch):
    compared = []
    real = links.hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(links.hmac, "compare_digest", spy)
    settings = get_settings()
    link = links.sign("job-1", links.AUDIO, settings)
    links.verify("job-1", links.AUDIO, link.expires_at, link.signature, settings)
    assert compared == [(link.signature.encode(), link.signature.encode())]
    with pytest.raises(links.InvalidLink):
        links.verify("job-1", "block", link.expires_at, link.signature, settings)  # other scope
