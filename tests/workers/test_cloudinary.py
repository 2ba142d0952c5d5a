"""Cloudinary storage through the official SDK, against the simulator's upload API."""

import re

import httpx
import pytest

from settings.storage import CloudinarySettings, StorageSettings
from tests.audio_helpers import decode
from tests.conftest import SIMULATOR_URL
from tests.helpers import wait_for_job
from utils.errors import ConfigurationError, StorageError
from utils.storage.cloudinary import CloudinaryStorage, cloudinary_options

CLOUDINARY_URL = "cloudinary://123456789:cloud-secret-value@demo-cloud"
DELIVERY = f"{SIMULATOR_URL}/cloudinary"
CLOUDINARY_ENV = {
    "STORAGE_BACKEND": "cloudinary",
    "CLOUDINARY_URL": CLOUDINARY_URL,
    "CLOUDINARY_UPLOAD_PREFIX": SIMULATOR_URL,
    "CLOUDINARY_DELIVERY_PREFIX": DELIVERY,
}


def settings_for(tmp_path, url: str = CLOUDINARY_URL) -> StorageSettings:
    return StorageSettings(
        backend="cloudinary",
        root=tmp_path / "unused",
        scratch_dir=tmp_path,
        cloudinary=CloudinarySettings(
            _env_file=None, url=url, upload_prefix=SIMULATOR_URL, delivery_prefix=DELIVERY
        ),
    )


def test_cloudinary_url_is_parsed_and_a_bad_one_refused():
    assert cloudinary_options(CLOUDINARY_URL) == {
        "api_key": "123456789",
        "api_secret": "cloud-secret-value",
        "cloud_name": "demo-cloud",
    }
    with pytest.raises(ConfigurationError, match="cloudinary://KEY:SECRET@CLOUD"):
        cloudinary_options("https://example.com")


def test_an_upload_is_found_from_its_key_alone_on_another_machine(simulator, tmp_path):
    storage = CloudinaryStorage(settings_for(tmp_path))
    storage.put_bytes("jobs/abc/block_0000.mp3", b"ID3-not-really-mp3")
    url = storage.url("jobs/abc/block_0000.mp3")
    assert url.startswith(f"{DELIVERY}/demo-cloud/video/upload/")
    assert re.search(r"/tts/jobs/abc/block_0000-[0-9a-f]{32}\.mp3$", url)
    assert simulator.stats()["uploads"] == [public_id(url)]
    assert httpx.get(url).content == b"ID3-not-really-mp3"

    elsewhere = CloudinaryStorage(settings_for(tmp_path / "other-machine"))
    assert elsewhere.local_path("jobs/abc/block_0000.mp3") is None
    with elsewhere.open("jobs/abc/block_0000.mp3") as handle:
        assert handle.read() == b"ID3-not-really-mp3"
    assert elsewhere.local_path("jobs/abc/block_0000.mp3") is not None  # kept for next time
    with pytest.raises(StorageError, match="not in storage"):
        elsewhere.open("jobs/abc/block_0001.mp3")


def public_id(url: str) -> str:
    """tts/... of a delivery URL, without version and extension."""
    return re.search(r"/upload/v\d+/(tts/.+)\.mp3$", url).group(1)


def test_public_ids_cannot_be_guessed_without_the_account_secret(tmp_path):
    key = "jobs/0b3a5c1e-0000-4000-8000-000000000000/final.mp3"
    ours = CloudinaryStorage(settings_for(tmp_path)).url(key)
    other_secret = settings_for(tmp_path, "cloudinary://123456789:another-secret@demo-cloud")
    theirs = CloudinaryStorage(other_secret).url(key)
    assert ours != theirs and public_id(ours).startswith("tts/jobs/0b3a5c1e")
    assert CloudinaryStorage(settings_for(tmp_path / "elsewhere")).url(key) == ours  # stable


def test_a_copy_without_a_local_source_is_fetched_by_cloudinary_itself(simulator, tmp_path):
    CloudinaryStorage(settings_for(tmp_path)).put_bytes("cache/ab/abc.mp3", b"cached words")
    elsewhere = CloudinaryStorage(settings_for(tmp_path / "other-machine"))
    elsewhere.copy("cache/ab/abc.mp3", "jobs/j1/block_0000.mp3")
    assert httpx.get(elsewhere.url("jobs/j1/block_0000.mp3")).content == b"cached words"
    with pytest.raises(StorageError):
        elsewhere.copy("cache/ab/gone.mp3", "jobs/j1/block_0001.mp3")


def test_purge_deletes_uploads_under_a_prefix_older_than_the_age(simulator, tmp_path):
    storage = CloudinaryStorage(settings_for(tmp_path))
    for key in ("jobs/old/final.mp3", "jobs/old/block_0000.mp3", "jobs/new/final.mp3"):
        storage.put_bytes(key, b"x")
    storage.put_bytes("cache/ab/old.mp3", b"x")
    assert simulator.age_uploads("tts/jobs/old/", 3600) == 2
    simulator.age_uploads("tts/cache/", 3600)

    assert storage.purge("jobs/", older_than_s=600) == 2
    assert [u.rsplit("-", 1)[0] for u in simulator.stats()["uploads"]] == [
        "tts/cache/ab/old",
        "tts/jobs/new/final",
    ]


@pytest.mark.pipeline
def test_a_job_on_cloudinary_returns_secure_urls_and_still_streams(
    isolated_service, simulator, session_dir
):
    worker_temp = session_dir / "cloudinary-worker-temp"
    api_temp = session_dir / "cloudinary-api-temp"  # as if the API ran on another machine
    app, alice = isolated_service(
        db=2,
        env={**CLOUDINARY_ENV, "TEMP_DIR": str(worker_temp)},
        api_env={"TEMP_DIR": str(api_temp)},
    )
    blocks = [
        {"text": "Stored in the cloud.", "wait_after_ms": 300},
        {"text": "Both blocks and the whole."},
    ]
    job_id = app.post("/tts", headers=alice, json={"blocks": blocks}).json()["job_id"]
    assert wait_for_job(app, job_id, alice)["status"] == "completed"

    result = app.get(f"/result/{job_id}", headers=alice).json()
    prefix = f"{DELIVERY}/demo-cloud/video/upload/"
    assert result["url"].startswith(prefix)
    assert re.search(rf"tts/jobs/{job_id}/final-[0-9a-f]{{32}}\.mp3$", result["url"])
    assert all(b["url"].startswith(prefix) for b in result["blocks"])
    uploads = simulator.stats()["uploads"]
    assert public_id(result["url"]) in uploads
    assert {public_id(b["url"]) for b in result["blocks"]} <= set(uploads)
    assert len([u for u in uploads if u.startswith(f"tts/jobs/{job_id}/")]) == 3

    # the API has no local copy: it fetches from Cloudinary and streams the same bytes
    streamed = app.get(f"/result/{job_id}/audio", headers=alice)
    assert streamed.status_code == 200 and streamed.headers["content-type"] == "audio/mpeg"
    assert streamed.content == httpx.get(result["url"]).content
    assert decode(streamed.content, 24000).size / 24000 * 1000 == pytest.approx(
        result["duration_ms"], abs=1
    )
    # and from then on it serves its copy, with Range support
    part = app.get(f"/result/{job_id}/audio", headers={**alice, "Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == streamed.content[:10]
