"""A job through a real worker with S3 storage (moto's server on loopback): the result's URLs
are presigned S3 URLs, and the final MP3 fetched from one decodes to the job's duration."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.audio_helpers import decode
from tests.helpers import wait_for_job

pytestmark = pytest.mark.pipeline


def test_a_job_on_s3_hands_out_presigned_urls_of_audio_that_decodes(
    isolated_service, s3_server, session_dir
):
    bucket = s3_server.new_bucket()
    app, alice = isolated_service(
        db=11,
        env={**s3_server.env(bucket), "TEMP_DIR": str(session_dir / "s3-worker-temp")},
        # the API's own folders: it reads nothing a worker wrote on disk
        api_env={
            "DATA_DIR": str(session_dir / "s3-api-data"),
            "TEMP_DIR": str(session_dir / "s3-api-temp"),
        },
    )
    blocks = [
        {"text": "Stored in a bucket.", "wait_after_ms": 300},
        {"text": "Fetched with a signed link.", "provider": "openai", "voice": "nova"},
    ]
    job_id = app.post("/tts", headers=alice, json={"blocks": blocks}).json()["job_id"]
    assert wait_for_job(app, job_id, alice)["status"] == "completed"

    result = app.get(f"/result/{job_id}", headers=alice).json()
    expected = f"{s3_server.url}/{bucket}/tts/jobs/{job_id}/final.mp3?"
    assert result["url"].startswith(expected)
    query = parse_qs(urlsplit(result["url"]).query)
    assert query["X-Amz-Expires"] == ["3600"] and "X-Amz-Signature" in query
    for block in result["blocks"]:
        name = f"tts/jobs/{job_id}/block_{block['index']:04d}.mp3?"
        assert block["url"].startswith(f"{s3_server.url}/{bucket}/{name}")

    final = httpx.get(result["url"])
    assert final.status_code == 200 and final.headers["content-type"] == "audio/mpeg"
    samples = decode(final.content, 24000)
    assert samples.size / 24000 * 1000 == pytest.approx(result["duration_ms"], abs=1)
    assert abs(samples.astype(int)).max() > 1000  # speech, not silence
    # the API, with nothing on its disk, streams the same bytes from the bucket
    through_api = app.get(f"/result/{job_id}/audio", headers=alice)
    assert through_api.status_code == 200 and through_api.content == final.content
    # and answers Range from the bucket, as it does from a file
    part = app.get(f"/result/{job_id}/audio", headers={**alice, "Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == final.content[100:1100]
    # nothing under the worker's or the API's data folders: all of it is in the bucket
    assert not list((session_dir / "s3-api-data").rglob("*.mp3"))
    assert not list((session_dir / "s3-worker-temp").rglob("*.mp3"))
