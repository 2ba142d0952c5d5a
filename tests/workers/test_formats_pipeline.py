"""One job per family other than MP3, through HTTP, Redis and a real worker with Piper: the
final file decodes to its reported duration with its pauses where they should be, blocks
download in the format, and the stream decodes."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from tests.helpers import wait_for_job
from utils.audio.formats import OutputFormat

pytestmark = pytest.mark.pipeline

FORMATS = ["wav_24000", "pcm_16000", "flac_22050", "opus_24000_32", "aac_24000_64"]
TEXTS = ["Good morning.", "A second short block.", "The end."]
PAUSES = [400, 900, 0]
QUIET = 300  # |sample| under this is silence, after a lossy codec too


def decode_any(data: bytes, fmt: OutputFormat) -> tuple[np.ndarray, int, float | None]:
    """Mono int16 samples, their rate, and the container's duration in seconds."""
    if fmt.family_name == "pcm":
        return np.frombuffer(data, "<i2"), fmt.sample_rate, None
    container = av.open(io.BytesIO(data))
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="s16", layout="mono", rate=stream.sample_rate)
    pieces = [
        out.to_ndarray().reshape(-1)
        for frame in container.decode(stream)
        for out in resampler.resample(frame)
    ]
    duration = container.duration / 1e6 if container.duration else None
    return np.concatenate(pieces), stream.sample_rate, duration


def frame_ms(fmt: OutputFormat) -> float:
    """A codec frame, and the millisecond durations are rounded to."""
    return fmt.samples_per_frame * 1000 / fmt.sample_rate + 1


def check_final(app, alice, job_id: str, fmt: OutputFormat, result: dict) -> None:
    audio = app.get(f"/result/{job_id}/audio", headers=alice)
    assert audio.headers["content-type"] == fmt.content_type
    assert f'filename="tts-{job_id}.{fmt.extension}"' in audio.headers["content-disposition"]
    ranged = app.get(f"/result/{job_id}/audio", headers={**alice, "Range": "bytes=0-99"})
    assert ranged.status_code == 206 and ranged.content == audio.content[:100]
    head = app.head(f"/result/{job_id}/audio", headers=alice)
    assert head.headers["content-type"] == fmt.content_type and head.content == b""
    assert int(head.headers["content-length"]) == len(audio.content)

    samples, rate, container_s = decode_any(audio.content, fmt)
    tolerance = frame_ms(fmt)
    assert abs(samples.size * 1000 / rate - result["duration_ms"]) <= tolerance, fmt.name
    if container_s is not None:  # what a player shows
        assert abs(container_s * 1000 - result["duration_ms"]) <= tolerance, fmt.name

    # Lossless audio is where it was put to the sample; a lossy codec smears across a frame.
    edge = 1 if fmt.family_name in ("wav", "pcm", "flac") else tolerance
    blocks = result["blocks"]
    for here, after, pause in zip(blocks, blocks[1:], PAUSES, strict=False):
        assert after["start_ms"] - here["end_ms"] == pytest.approx(pause, abs=1)
        # the pause is silent, measured in the decoded audio, but for a codec frame each side
        quiet = samples[
            int((here["end_ms"] + edge) * rate / 1000) : int(
                (after["start_ms"] - edge) * rate / 1000
            )
        ]
        assert quiet.size > 0 and np.abs(quiet.astype(np.int32)).max() < QUIET, fmt.name
    for block in blocks:
        speech = samples[int(block["start_ms"] * rate / 1000) : int(block["end_ms"] * rate / 1000)]
        assert np.abs(speech.astype(np.int32)).max() > 3000, fmt.name  # a voice, not silence


def check_block(app, alice, job_id: str, fmt: OutputFormat, block: dict) -> None:
    response = app.get(f"/result/{job_id}/block/{block['index']}/audio", headers=alice)
    assert response.headers["content-type"] == fmt.content_type
    assert f"-block-{block['index']:04d}.{fmt.extension}" in response.headers["content-disposition"]
    samples, rate, _ = decode_any(response.content, fmt)
    assert abs(samples.size * 1000 / rate - block["duration_ms"]) <= frame_ms(fmt)


def test_one_job_per_family_decodes_true(app, alice, worker):
    jobs = {}
    for name in FORMATS:
        blocks = [{"text": t, "wait_after_ms": p} for t, p in zip(TEXTS, PAUSES, strict=True)]
        response = app.post("/tts", headers=alice, json={"blocks": blocks, "output_format": name})
        assert response.status_code == 202, response.text
        jobs[name] = response.json()["job_id"]

    for name, job_id in jobs.items():
        fmt = OutputFormat.parse(name)
        # streamed while it runs (the first ones at least), in the format's stream container
        with app.stream("GET", f"/result/{job_id}/audio?stream=true", headers=alice) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"] == fmt.family.stream_content_type
            streamed = b"".join(stream.iter_bytes())
        status = wait_for_job(app, job_id, alice)
        assert status["status"] == "completed", status
        result = app.get(f"/result/{job_id}", headers=alice).json()
        assert result["output_format"] == name

        check_final(app, alice, job_id, fmt, result)
        check_block(app, alice, job_id, fmt, result["blocks"][1])
        samples, rate, _ = decode_any(streamed, fmt)
        lead_in = 2 * frame_ms(fmt)  # ADTS keeps AAC's priming; nothing else adds any
        assert -1 <= samples.size * 1000 / rate - result["duration_ms"] <= lead_in, name
        if fmt.family_name == "aac":
            assert streamed[:2] == b"\xff\xf1"  # ADTS sync word: MPEG-4, no CRC
            again = app.get(f"/result/{job_id}/audio?stream=true", headers=alice)
            assert again.headers["content-type"] == "audio/aac"  # finished or not

    # the same job again: every block restored from the cache, both its objects
    blocks = [{"text": t, "wait_after_ms": p} for t, p in zip(TEXTS, PAUSES, strict=True)]
    response = app.post(
        "/tts", headers=alice, json={"blocks": blocks, "output_format": "wav_24000"}
    )
    again = wait_for_job(app, response.json()["job_id"], alice)
    assert again["status"] == "completed" and all(b["cached"] for b in again["blocks"])
    first = app.get(f"/result/{jobs['wav_24000']}/audio", headers=alice).content
    assert app.get(f"/result/{again['job_id']}/audio", headers=alice).content == first
