"""Cloudinary storage through the official SDK, against the simulator's upload API."""

from types import SimpleNamespace

import httpx
import pytest

from tests.audio_helpers import decode
from tests.conftest import SIMULATOR_URL
from tests.helpers import wait_for_job
from utils.cloudinary_storage import CloudinaryStorage, cloudinary_options
from utils.errors import ConfigurationError

CLOUDINARY_URL = "cloudinary://123456789:cloud-secret-value@demo-cloud"
CLOUDINARY_ENV = {
    "STORAGE_BACKEND": "cloudinary",
    "CLOUDINARY_URL": CLOUDINARY_URL,
    "CLOUDINARY_UPLOAD_PREFIX": SIMULATOR_URL,
}


def settings_for(tmp_path):
    from pydantic import SecretStr

    return SimpleNamespace(
        CLOUDINARY_URL=SecretStr(CLOUDINARY_URL),
        CLOUDINARY_UPLOAD_PREFIX=SIMULATOR_URL,
        CLOUDINARY_FOLDER="tts",
        TEMP_DIR=tmp_path,
    )


def test_cloudinary_url_is_parsed_and_a_bad_one_refused():
    assert cloudinary_options(CLOUDINARY_URL) == {
        "api_key": "123456789",
        "api_secret": "cloud-secret-value",
        "cloud_name": "demo-cloud",
    }
    with pytest.raises(ConfigurationError, match="cloudinary://KEY:SECRET@CLOUD"):
        cloudinary_options("https://example.com")


def test_upload_returns_the_secure_url_and_reads_back_without_a_local_copy(simulator, tmp_path):
    storage = CloudinaryStorage(settings_for(tmp_path))
    url = storage.put_bytes("jobs/abc/block_0000.mp3", b"ID3-not-really-mp3")
    assert url.startswith(f"{SIMULATOR_URL}/cloudinary/demo-cloud/video/upload/")
    assert url.endswith("/tts/jobs/abc/block_0000")
    assert simulator.stats()["uploads"] == ["tts/jobs/abc/block_0000"]

    elsewhere = CloudinaryStorage(settings_for(tmp_path / "other-machine"))
    assert elsewhere.local_path("jobs/abc/block_0000.mp3") is None
    with elsewhere.open("jobs/abc/block_0000.mp3", url) as handle:
        assert handle.read() == b"ID3-not-really-mp3"
    assert elsewhere.local_path("jobs/abc/block_0000.mp3") is not None  # kept for next time


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
    prefix = f"{SIMULATOR_URL}/cloudinary/demo-cloud/video/upload/"
    assert result["url"].startswith(prefix) and result["url"].endswith(f"tts/jobs/{job_id}/final")
    assert all(b["url"].startswith(prefix) for b in result["blocks"])
    uploads = simulator.stats()["uploads"]
    assert f"tts/jobs/{job_id}/final" in uploads
    assert {f"tts/jobs/{job_id}/block_000{i}" for i in range(2)} <= set(uploads)

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
