"""Long-form output through HTTP, Redis and a real worker with Piper: chapters that players
and FFmpeg read from the final MP3 and m4b, blocks ~10 dB apart brought to one loudness, and
durations still exact."""

from __future__ import annotations

import io
import re
import subprocess

import av
import imageio_ffmpeg
import numpy as np
import pytest
from mutagen.id3 import ID3
from mutagen.mp4 import MP4

from tests.helpers import wait_for_job
from utils.audio.formats import OutputFormat
from utils.audio.loudness import integrated_lufs, true_peak_db

pytestmark = pytest.mark.pipeline

QUIET = '<speak><prosody volume="-10dB">{}</prosody></speak>'
BLOCKS = [
    {
        "text": "Chapter one. It was a bright cold day in April, and the clocks were striking.",
        "chapter": "One",
        "wait_after_ms": 500,
    },
    {"text": QUIET.format("Winston slipped quickly through the glass doors of the mansions.")},
    {
        "text": "Chapter two. The hallway smelt of boiled cabbage and of old rag mats.",
        "chapter": "Two",
    },
]


def run(app, alice, body: dict) -> tuple[dict, bytes]:
    response = app.post("/tts", headers=alice, json=body)
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert wait_for_job(app, job_id, alice)["status"] == "completed"
    result = app.get(f"/result/{job_id}", headers=alice).json()
    return result, app.get(f"/result/{job_id}/audio", headers=alice).content


def decoded(data: bytes) -> tuple[np.ndarray, int, float]:
    """Mono float samples, rate, and the duration the container reports (ms)."""
    container = av.open(io.BytesIO(data))
    stream = container.streams.audio[0]
    pieces = [frame.to_ndarray().reshape(-1) for frame in container.decode(stream)]
    return np.concatenate(pieces), stream.sample_rate, container.duration / 1000


def ffmpeg_chapters(data: bytes, suffix: str, tmp_path) -> list[tuple[str, float, float]]:
    """The chapters as `ffmpeg -i` prints them: (title, start s, end s)."""
    path = tmp_path / f"final.{suffix}"
    path.write_bytes(data)
    printed = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
    ).stderr
    found = re.findall(
        r"Chapter #\d+:\d+: start ([\d.]+), end ([\d.]+)\s+Metadata:\s+title\s+: (.+)", printed
    )
    return [(title.strip(), float(start), float(end)) for start, end, title in found]


def block_loudness(samples, rate, result) -> list[float]:
    return [
        integrated_lufs(samples[b["start_ms"] * rate // 1000 : b["end_ms"] * rate // 1000], rate)
        for b in result["blocks"]
    ]


def check_duration(samples, rate, container_ms, result, fmt: OutputFormat) -> None:
    frame_ms = fmt.samples_per_frame * 1000 / fmt.sample_rate
    assert abs(container_ms - result["duration_ms"]) <= frame_ms
    assert abs(samples.size * 1000 / rate - result["duration_ms"]) <= frame_ms


def test_an_mp3_with_chapters_and_blocks_brought_to_one_loudness(app, alice, worker, tmp_path):
    fmt = OutputFormat.parse("mp3_24000_64")
    body = {"blocks": BLOCKS, "output_format": fmt.name, "title": "Nineteen", "author": "G. O."}
    plain, plain_audio = run(app, alice, body)
    result, audio = run(app, alice, {**body, "loudness": "podcast"})

    # without a target, the quiet block is ~10 dB under the others, and so is the programme
    samples, rate, _ = decoded(plain_audio)
    spread = block_loudness(samples, rate, plain)
    assert spread[0] - spread[1] > 7 and spread[2] - spread[1] > 7
    assert abs(integrated_lufs(samples, rate) + 16) > 1
    assert "loudness" not in plain["blocks"][0] or plain["blocks"][0]["loudness"] is None

    # with it, every block and the whole programme land on -16 LUFS, peaks under -1 dBTP
    samples, rate, container_ms = decoded(audio)
    levels = block_loudness(samples, rate, result)
    assert max(levels) - min(levels) < 1.0, levels
    assert abs(integrated_lufs(samples, rate) + 16) <= 1.0
    assert true_peak_db(samples, rate) <= -1.0
    assert result["loudness"] == {"integrated_lufs": -16.0, "true_peak_db": -1.0}
    measured = [b["loudness"] for b in result["blocks"]]
    assert measured[0]["before_lufs"] - measured[1]["before_lufs"] > 7
    assert all(abs(m["after_lufs"] + 16) <= 0.2 for m in measured), measured
    # the quiet block boosted well beyond the others: by how much varies by run (Piper samples
    # its voice with noise, and the gain is the one before the true-peak limiter, which takes
    # more from peakier audio: 6.4-9.9 dB more seen for a block ~10 dB quieter)
    assert measured[1]["gain_db"] > measured[0]["gain_db"] + 5, measured
    check_duration(samples, rate, container_ms, result, fmt)

    # chapters: in /result, in the ID3 tag (mutagen) and as FFmpeg reads them
    starts = [b["start_ms"] for b in result["blocks"]]
    assert result["chapters"] == [
        {"title": "One", "block_index": 0, "start_ms": starts[0], "end_ms": starts[2]},
        {"title": "Two", "block_index": 2, "start_ms": starts[2], "end_ms": result["duration_ms"]},
    ]
    tag = ID3(io.BytesIO(audio))
    assert (str(tag["TIT2"]), str(tag["TPE1"])) == ("Nineteen", "G. O.")
    chaps = sorted(tag.getall("CHAP"), key=lambda c: c.start_time)
    assert [(str(c.sub_frames["TIT2"]), c.start_time, c.end_time) for c in chaps] == [
        (c["title"], c["start_ms"], c["end_ms"]) for c in result["chapters"]
    ]
    assert ffmpeg_chapters(audio, "mp3", tmp_path) == [
        (c["title"], c["start_ms"] / 1000, c["end_ms"] / 1000) for c in result["chapters"]
    ]


def test_an_m4b_audiobook_with_chapters_at_the_audiobook_loudness(app, alice, worker, tmp_path):
    fmt = OutputFormat.parse("m4b_24000_64")
    body = {
        "blocks": BLOCKS,
        "output_format": fmt.name,
        "title": "Nineteen",
        "author": "G. O.",
        "album": "Novels",
        "loudness": "audiobook",
    }
    result, audio = run(app, alice, body)
    head = app.head(f"/result/{result['job_id']}/audio", headers=alice)
    assert head.headers["content-type"] == "audio/mp4"
    assert 'filename="tts-' in head.headers["content-disposition"]
    assert ".m4b" in head.headers["content-disposition"]

    samples, rate, container_ms = decoded(audio)
    check_duration(samples, rate, container_ms, result, fmt)
    assert abs(integrated_lufs(samples, rate) + 19) <= 1.0
    assert true_peak_db(samples, rate) <= -3.0

    expected = [(c["title"], c["start_ms"] / 1000) for c in result["chapters"]]
    assert [c["title"] for c in result["chapters"]] == ["One", "Two"]
    path = tmp_path / "book.m4b"
    path.write_bytes(audio)
    book = MP4(path)
    assert (book.tags["©nam"], book.tags["©ART"], book.tags["©alb"]) == (
        ["Nineteen"],
        ["G. O."],
        ["Novels"],
    )
    assert [(c.title, round(c.start, 3)) for c in book.chapters] == expected
    assert [(t, s) for t, s, _ in ffmpeg_chapters(audio, "m4b", tmp_path)] == expected
