"""Sentence timings and subtitles of real jobs, checked against the decoded audio.

The hour-long job is the drift test: MP3 blocks are stitched frame by frame, each with its own
encoder delay and padding, so a time built by adding durations would wander by up to 70 ms
per block. Here every block's speech is found in the decoded file by an independent method (the
silences around it), and every subtitle cue must start within 50 ms of it.
"""

from __future__ import annotations

import numpy as np
import pytest
import srt
import webvtt

from tests.audio_helpers import decode
from tests.helpers import wait_for_job
from utils.text.subtitles import MAX_LINE_CHARS, MAX_LINES

pytestmark = pytest.mark.pipeline

RATE = 24000  # the default output format, mp3_24000_64
RACHEL = "21m00Tcm4TlvDq8ikWAM"
TOLERANCE_MS = 50


def submit(app, headers, blocks, **extra) -> str:
    response = app.post("/tts", headers=headers, json={"blocks": blocks, **extra})
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def speech_runs(samples: np.ndarray, rate: int, min_gap_s: float = 1.0) -> list[tuple[int, int]]:
    """(first, last) loud sample of each stretch of sound separated by at least `min_gap_s`
    of near silence: found in the audio alone, knowing nothing of the job."""
    frame = rate // 100
    n = samples.size // frame
    frames = samples[: n * frame].reshape(n, frame)
    peaks = np.maximum(frames.max(axis=1).astype(np.int32), -frames.min(axis=1).astype(np.int32))
    loud = np.flatnonzero(peaks > 2000)
    gaps = np.flatnonzero(np.diff(loud) > min_gap_s * 100)
    runs = []
    for first, last in zip(
        np.concatenate([[loud[0]], loud[gaps + 1]]),
        np.concatenate([loud[gaps], [loud[-1]]]),
        strict=True,
    ):
        head = samples[first * frame : (first + 1) * frame]
        tail = samples[last * frame : (last + 1) * frame]
        runs.append(
            (
                int(first * frame + np.flatnonzero(np.abs(head) > 2000)[0]),
                int(last * frame + np.flatnonzero(np.abs(tail) > 2000)[-1]),
            )
        )
    return runs


def parsed_subtitles(app, job_id, headers) -> tuple[list[srt.Subtitle], list]:
    srt_response = app.get(f"/result/{job_id}/subtitles.srt", headers=headers)
    vtt_response = app.get(f"/result/{job_id}/subtitles.vtt", headers=headers)
    assert srt_response.status_code == vtt_response.status_code == 200
    assert vtt_response.headers["content-type"].startswith("text/vtt")
    cues = list(srt.parse(srt_response.text))
    captions = webvtt.from_string(vtt_response.text).captions
    # the same cues in both files
    assert [round(c.start.total_seconds() * 1000) for c in cues] == [
        c.start_time.in_milliseconds() for c in captions
    ]
    for cue in cues:
        lines = cue.content.split("\n")
        assert len(lines) <= MAX_LINES and all(len(x) <= MAX_LINE_CHARS for x in lines), lines
        assert cue.start < cue.end
    for earlier, later in zip(cues, cues[1:], strict=False):
        assert earlier.end <= later.start, (earlier, later)
    return cues, captions


def ms(delta) -> float:
    return delta.total_seconds() * 1000


BLOCKS = 400


def test_an_hour_long_job_has_cues_on_its_speech_to_the_last_block(isolated_service, simulator):
    """400 blocks of tones with pauses, one hour of MP3: every block's first cue starts within
    50 ms of where its sound starts in the decoded file; every cue lies inside its sound."""
    app, alice = isolated_service(
        db=7, workers=2, concurrency=8, pool="threads", api_env={"MAX_BLOCKS": str(BLOCKS)}
    )
    blocks = [
        {
            "text": f"Part {i} begins. It ends {'very ' * (i % 4)}soon.",
            "provider": "bulk",
            "voice": "alloy",
            "wait_after_ms": 7000 + (i * 37) % 1000,
        }
        for i in range(BLOCKS)
    ]
    job_id = submit(app, alice, blocks)
    status = wait_for_job(app, job_id, alice, timeout_s=300)
    assert status["status"] == "completed", status
    result = app.get(f"/result/{job_id}", headers=alice).json()
    assert result["duration_ms"] > 3_600_000  # an hour, with its pauses

    audio = decode(app.get(f"/result/{job_id}/audio", headers=alice).content, RATE)
    runs = speech_runs(audio, RATE)
    assert len(runs) == BLOCKS
    onsets_ms = [first * 1000 / RATE for first, _ in runs]
    ends_ms = [last * 1000 / RATE for _, last in runs]

    timings = app.get(f"/result/{job_id}/timings", headers=alice).json()
    assert {s["source"] for s in timings["sentences"]} == {"estimated"}
    assert [s["block"] for s in timings["sentences"]] == [i // 2 for i in range(2 * BLOCKS)]
    cues, _ = parsed_subtitles(app, job_id, alice)
    assert len(cues) == 2 * BLOCKS

    errors = []
    for index, (onset, end) in enumerate(zip(onsets_ms, ends_ms, strict=True)):
        first, second = cues[2 * index], cues[2 * index + 1]  # the block's two sentences
        errors.append(abs(ms(first.start) - onset))
        assert errors[-1] <= TOLERANCE_MS, (index, first, onset)
        assert onset - TOLERANCE_MS <= ms(first.start) < ms(second.end) <= end + TOLERANCE_MS
    # What adding up durations and pauses would have said: outside the tolerance by the end
    # (each pause is heard within half an MP3 frame of the one asked for, and those add up).
    added_ms = sum(
        b["duration_ms"] + w["wait_after_ms"] for b, w in zip(result["blocks"], blocks, strict=True)
    )
    added_ms -= result["blocks"][-1]["duration_ms"] + blocks[-1]["wait_after_ms"]
    print(
        f"last block: its first cue {errors[-1]:.1f} ms from its sound (largest {max(errors):.1f}"
        f" ms); durations added up would put it {abs(added_ms - onsets_ms[-1]):.0f} ms off"
    )
    assert errors[-1] <= TOLERANCE_MS
    assert abs(added_ms - onsets_ms[-1]) > TOLERANCE_MS


PIPER_TEXTS = [
    "The morning was cold and clear. We walked down to the river, where the boats were "
    "waiting, and sat for a while on the old wooden pier that nobody had repaired in years. "
    "Nobody spoke.",
    "Then the bells rang. Was it a wedding, or a warning?",
]


def test_piper_sentences_are_exact_and_fall_on_its_pauses(app, alice, worker):
    blocks = [{"text": text, "wait_after_ms": 600} for text in PIPER_TEXTS]
    job_id = submit(app, alice, blocks)
    assert wait_for_job(app, job_id, alice)["status"] == "completed"
    result = app.get(f"/result/{job_id}", headers=alice).json()
    timings = app.get(f"/result/{job_id}/timings", headers=alice).json()

    sentences = timings["sentences"]
    assert [s["text"] for s in sentences] == [
        "The morning was cold and clear.",
        "We walked down to the river, where the boats were waiting, and sat for a while on "
        "the old wooden pier that nobody had repaired in years.",
        "Nobody spoke.",
        "Then the bells rang.",
        "Was it a wedding, or a warning?",
    ]
    assert {s["source"] for s in sentences} == {"synthesized"}
    # every word too, from the model's own phoneme durations, inside its sentence
    words = timings["words"]
    assert [w["text"] for w in words] == " ".join(PIPER_TEXTS).split()
    assert {w["source"] for w in words} == {"synthesized"}
    assert all(a["end_ms"] <= b["start_ms"] for a, b in zip(words, words[1:], strict=False))
    for word in words:
        own = [s for s in sentences if s["block"] == word["block"]]
        assert any(s["start_ms"] <= word["start_ms"] <= word["end_ms"] <= s["end_ms"] for s in own)
    for block in result["blocks"]:
        own = [s for s in sentences if s["block"] == block["index"]]
        assert own[0]["start_ms"] == block["start_ms"] and own[-1]["end_ms"] == block["end_ms"]
        assert all(a["end_ms"] == b["start_ms"] for a, b in zip(own, own[1:], strict=False))

    # Each sentence after a block's first begins in Piper's own pause (the quiet it starts
    # with): exact times land there; a time off by a word would land in speech.
    audio = decode(app.get(f"/result/{job_id}/audio", headers=alice).content, RATE)
    loudest = np.abs(audio.astype(np.int32)).max()
    for s in sentences:
        if s["start_ms"] in {b["start_ms"] for b in result["blocks"]}:
            continue
        at = round(s["start_ms"] * RATE / 1000)
        around = np.abs(audio[at - RATE // 100 : at + RATE // 100].astype(np.int32))
        assert around.max() < loudest * 0.1, (s["text"], around.max(), loudest)

    cues, _ = parsed_subtitles(app, job_id, alice)
    assert len(cues) > len(sentences)  # the long sentence takes more than one cue
    assert ms(cues[0].start) == sentences[0]["start_ms"]
    assert ms(cues[-1].end) == sentences[-1]["end_ms"]
    joined = " ".join(c.content.replace("\n", " ") for c in cues)
    assert joined == " ".join(PIPER_TEXTS)


def test_elevenlabs_words_are_timed_and_cues_follow_them(app, alice, worker, simulator):
    simulator.knobs(latency_ms=1500)
    text = (
        "Every word of this block comes with its own time from the provider, so a sentence "
        "too long for one cue is cut where a word begins. The cue after a cut starts with "
        "that word's own time, not a guess."
    )
    job_id = submit(
        app,
        alice,
        [
            {
                "text": "A first block.",
                "provider": "elevenlabs",
                "voice": RACHEL,
                "wait_after_ms": 300,
            },
            {"text": text, "provider": "elevenlabs", "voice": RACHEL},
        ],
    )
    early = app.get(f"/result/{job_id}/timings", headers=alice)
    assert early.status_code == 409, early.text  # like /result: not before it completes
    assert app.get(f"/result/{job_id}/subtitles.srt", headers=alice).status_code == 409
    assert wait_for_job(app, job_id, alice)["status"] == "completed"
    assert simulator.stats()["recent"][-1]["timestamps"] is True

    result = app.get(f"/result/{job_id}", headers=alice).json()
    timings = app.get(f"/result/{job_id}/timings", headers=alice).json()
    assert {s["source"] for s in timings["sentences"] + timings["words"]} == {"aligned"}
    words = [w for w in timings["words"] if w["block"] == 1]
    assert [w["text"] for w in words] == text.split()
    block = result["blocks"][1]
    assert words[0]["start_ms"] == block["start_ms"]
    # the simulator gives each character an equal share of its tone: a word starts where its
    # first character's share does
    per_char = (block["end_ms"] - block["start_ms"]) / len(text)
    for word in words:
        expected = block["start_ms"] + word["chars"][0] * per_char
        assert abs(word["start_ms"] - expected) <= 2, word
    assert all(a["end_ms"] <= b["start_ms"] for a, b in zip(words, words[1:], strict=False))

    cues, _ = parsed_subtitles(app, job_id, alice)
    word_starts = {w["start_ms"] for w in words}
    block_cues = [c for c in cues if ms(c.start) >= block["start_ms"]]
    assert len(block_cues) >= 3
    assert all(ms(c.start) in word_starts for c in block_cues)
