"""TTSClient against the running service: a job from submit to decoded audio, its typed
errors, token refresh, API keys, the job list."""

from __future__ import annotations

import io
import uuid

import av
import pytest
from tts_client import (
    AuthError,
    JobFailed,
    NotFound,
    TTSClient,
    Unreachable,
    ValidationError,
)

from utils.embedded_redis import free_port

RACHEL = "21m00Tcm4TlvDq8ikWAM"


def seconds_of(data: bytes) -> float:
    """The audio's length, decoded by FFmpeg (PyAV)."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate


def test_a_job_from_submit_to_audio_with_progress_by_polling(service_url, tmp_path):
    seen = []
    with TTSClient(service_url, username="alice", password="alice-password") as tts:
        job = tts.submit(["The first block.", {"text": "The second one."}], wait_after_ms=300)
        assert job.status == "queued"
        final = tts.wait(job.job_id, progress=seen.append)
        result = tts.result(job.job_id)
        path = tts.download(job.job_id, tmp_path / "speech.mp3")
        streamed = tts.stream(job.job_id, tmp_path / "streamed.mp3")

    assert final.status == "completed" and final.progress == "2/2"
    assert [b.status for b in final.blocks] == ["completed", "completed"]
    # progress was told each change, in order, ending with the final status
    assert seen[-1] == final
    assert [s.done for s in seen] == sorted(s.done for s in seen)
    assert len(seen) >= 2
    assert result.duration_ms > 1000 and [b.index for b in result.blocks] == [0, 1]
    assert seconds_of(path.read_bytes()) == pytest.approx(result.duration_ms / 1000, abs=0.1)
    assert streamed.read_bytes() == path.read_bytes()  # MP3 streams the same bytes
    assert not (tmp_path / "speech.mp3.part").exists()


def test_errors_name_the_block_and_field(service_url):
    with TTSClient(service_url, username="alice", password="alice-password") as tts:
        with pytest.raises(ValidationError) as refused:
            tts.submit(
                [
                    {"text": "Fine."},
                    {"text": "Bad.", "voice": "no-such-voice", "wait_after_ms": 20000},
                ]
            )
        with pytest.raises(NotFound):
            tts.status(str(uuid.uuid4()))
        with pytest.raises(NotFound):
            tts.voices("no-such-provider")
        assert "piper" in {p.name for p in tts.providers()}
        assert tts.voices("piper")[0].id

    problems = {p.field: p for p in refused.value.problems}
    assert set(problems) == {"blocks[1].voice", "blocks[1].wait_after_ms"}
    assert all(p.block == 1 for p in problems.values())
    assert "no-such-voice" in problems["blocks[1].voice"].msg
    assert refused.value.status_code == 422
    assert "blocks[1].wait_after_ms" in str(refused.value)


def test_credentials_a_bad_password_a_refreshed_token_and_an_api_key(service_url):
    with pytest.raises(AuthError, match="wrong username or password"):
        TTSClient(service_url, username="alice", password="wrong").providers()
    with TTSClient(service_url, username="alice", password="alice-password") as tts:
        tts.providers()
        tts.credentials.token = "expired.or.revoked"  # as when a token runs out
        assert tts.providers()  # a new token was fetched after the 401
        key = tts.create_api_key("tests")
    with TTSClient(service_url, api_key=key["key"]) as by_key:
        assert by_key.jobs().jobs == []
        by_key.delete_api_key(key["id"])
        with pytest.raises(AuthError):  # a revoked key is not refreshed: there is no token
            by_key.jobs()
    with pytest.raises(Unreachable):
        TTSClient(f"http://127.0.0.1:{free_port()}", api_key="tts_sk_x").providers()


def test_a_failed_job_and_the_job_list(service_url, simulator):
    simulator.fault(401, times=10, path="/v1/text-to-speech", message="invalid api key")
    with TTSClient(service_url, username="alice", password="alice-password") as alice:
        bad = alice.submit([{"text": "Refused.", "provider": "elevenlabs", "voice": RACHEL}])
        with pytest.raises(JobFailed) as failed:
            alice.wait(bad.job_id, raise_on_failure=True)
        others = [alice.submit(text=f"Job {n}.").job_id for n in range(2)]
        page = alice.jobs(limit=2)
        listed = [j.job_id for j in alice.iter_jobs(page_size=1)]
    with TTSClient(service_url, username="bob", password="bob-password") as bob:
        assert bob.jobs().jobs == []
        with pytest.raises(NotFound):
            bob.status(bad.job_id)

    assert failed.value.job.status == "failed"
    assert "block 0: elevenlabs: HTTP 401" in failed.value.job.error
    assert [j.job_id for j in page.jobs] == others[::-1] and page.next_cursor
    assert listed == [*others[::-1], bad.job_id]
