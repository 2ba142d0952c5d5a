"""Blocks kept as the provider sent them (utils/audio/passthrough.py), through the official SDKs
against the simulator: byte for byte where the audio is already in the job's format, decoded
and encoded where something asks for its samples; and what one block costs Redis."""

from __future__ import annotations

import io
import uuid

import av
import numpy as np
import pytest

from config import Settings
from simulator.audio import render, tone
from tests.audio_helpers import decode
from tests.helpers import wait_for_job
from tests.redis_monitor import commands_sent
from tests.workers.fakes import RecordingQueue
from utils.accounts.slots import AccountSlots
from utils.audio.formats import OutputFormat
from utils.audio.mp3_frames import encoder_gaps, iter_frames
from utils.audio.passthrough import as_delivered
from utils.audio.pcm import ProviderAudio
from utils.audio.timeline import ENCODER_DELAY
from utils.jobs.models import BlockSpec
from utils.jobs.store import JobStore
from utils.storage.keys import block_keys
from utils.storage.local import LocalStorage
from workers.context import WorkerContext
from workers.providers import ProviderRegistry
from workers.synthesis import Outcome, synthesize_block

TEXT = "The committee met on Tuesday to review the quarterly budget proposal."
RACHEL = "21m00Tcm4TlvDq8ikWAM"


@pytest.fixture
def ctx(redis_db, tmp_path, simulator) -> WorkerContext:
    """Real providers (the test environment's PROVIDERS: the simulator), Redis and storage."""
    settings = Settings(TEMP_DIR=tmp_path / "temp")
    storage = LocalStorage(tmp_path / "audio")
    return WorkerContext(
        settings=settings,
        redis=redis_db,
        jobs=JobStore(redis_db, 3600),
        storage=storage,
        providers=ProviderRegistry(settings.PROVIDERS),
        slots=AccountSlots(redis_db),
        cache=None,
        queue=RecordingQueue(),
    )


def make(ctx, provider: str, voice: str, output_format: str, **job) -> tuple[str, bytes]:
    """One block made; its id and the bytes stored as its audio."""
    job_id = str(uuid.uuid4())
    ctx.jobs.create(job_id, "alice", output_format, [BlockSpec(TEXT, provider, voice)], **job)
    assert synthesize_block(ctx, job_id, 0) == Outcome.COMBINE
    key, pcm_key = block_keys(job_id, 0, OutputFormat.parse(output_format))
    with ctx.storage.open(pcm_key or key) as stored:
        return job_id, stored.read()


def test_an_mp3_in_the_jobs_format_is_stored_as_the_provider_sent_it(ctx, simulator):
    job_id, stored = make(ctx, "openai", "alloy", "mp3_24000_64")
    assert simulator.stats()["recent"][-1]["response_format"] == "mp3"
    sent = render(tone(TEXT, "alloy", 24000), "mp3", 24000, 64)  # what the simulator answered
    assert stored == sent
    block = ctx.jobs.get(job_id).blocks[0]
    frames = sum(1 for _ in iter_frames(sent))
    assert block.n_frames == frames
    # the speech's length, from the frames alone: within a frame of the tone's own
    assert abs(block.n_samples - tone(TEXT, "alloy", 24000).size) <= 576
    assert abs(block.duration_ms - 1000 * block.n_samples / 24000) < 1


def test_elevenlabs_is_asked_for_the_jobs_own_format_and_kept_as_it_came(ctx, simulator):
    _, stored = make(ctx, "elevenlabs", RACHEL, "mp3_44100_128")
    assert simulator.stats()["recent"][-1]["output_format"] == "mp3_44100_128"
    assert stored == render(tone(TEXT, RACHEL, 44100), "mp3", 44100, 128)


def test_pcm_at_the_jobs_rate_is_stored_as_it_came(ctx, simulator):
    _, stored = make(ctx, "openai", "nova", "pcm_24000")
    assert simulator.stats()["recent"][-1]["response_format"] == "pcm"
    assert stored == render(tone(TEXT, "nova", 24000), "pcm", 24000)


def test_a_loudness_target_or_another_bitrate_takes_the_decoded_path(ctx, simulator):
    sent = render(tone(TEXT, "alloy", 24000), "mp3", 24000, 64)
    _, leveled = make(ctx, "openai", "alloy", "mp3_24000_64", options=_loudness())
    assert leveled != sent
    assert {h.bitrate_kbps for _, h in iter_frames(leveled)} == {64}
    # another bitrate: the account's MP3 (64 kbps, now known) is not asked for, and the
    # block is encoded at the job's own
    _, other = make(ctx, "openai", "alloy", "mp3_24000_48")
    assert simulator.stats()["recent"][-1]["response_format"] == "pcm"
    assert {h.bitrate_kbps for _, h in iter_frames(other)} == {48}
    assert decode(other, 24000).size > 0.9 * tone(TEXT, "alloy", 24000).size


def _loudness():
    from utils.jobs.models import JobOptions

    return JobOptions.from_hash({"loudness_lufs": "-16", "true_peak_db": "-1"})


def test_an_encoders_delay_and_padding_are_read_from_its_lame_tag():
    samples = (8000 * np.sin(np.arange(30_001) / 7)).astype(np.int16)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as out:  # FFmpeg's libmp3lame writes the tag
        stream = out.add_stream("libmp3lame", rate=24000, layout="mono")
        stream.bit_rate = 64_000
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
        frame.sample_rate = 24000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    data = buffer.getvalue()
    delay, padding = encoder_gaps(data)
    assert delay == 576
    delivered = as_delivered(ProviderAudio(data, "mp3"), OutputFormat.parse("mp3_24000_64"))
    assert delivered.n_samples == samples.size  # exact, as the tag says
    assert delivered.lead_in == ENCODER_DELAY
    assert encoder_gaps(render(samples, "mp3", 24000, 64)) is None  # lameenc writes none


@pytest.mark.pipeline
def test_a_job_of_passed_through_blocks_keeps_its_durations_and_pauses(
    app, alice, simulator, worker
):
    blocks = [
        {"text": f"{TEXT} Part {i}.", "provider": "openai", "voice": "alloy", "wait_after_ms": 700}
        for i in range(3)
    ]
    response = app.post("/tts", headers=alice, json={"blocks": blocks})
    job_id = response.json()["job_id"]
    assert wait_for_job(app, job_id, alice)["status"] == "completed"
    result = app.get(f"/result/{job_id}", headers=alice).json()
    audio = decode(app.get(f"/result/{job_id}/audio", headers=alice).content, 24000)
    assert abs(audio.size / 24 - result["duration_ms"]) < 30
    loud = np.flatnonzero(np.abs(audio) > 1000)
    gaps = np.diff(loud)
    pauses_ms = sorted(gaps[gaps > 2400] / 24)[-2:]  # silences over 100 ms: the two pauses
    assert len(pauses_ms) == 2
    for pause in pauses_ms:  # within a frame (24 ms) of what was asked, and the tone's edges
        assert abs(pause - 700) <= 30, pauses_ms


def test_one_block_costs_redis_six_commands(ctx, redis_server):
    """Read the job and block, take a slot, start, look for a cancel, finish, give the slot
    back: each one command (the finish's record, done set, timings, event and combine marker
    are one script). A regression here is a cost paid by every block of every job."""
    first, job_id = str(uuid.uuid4()), str(uuid.uuid4())
    for job in (first, job_id):
        ctx.jobs.create(job, "alice", "mp3_24000_64", [BlockSpec(TEXT, "openai", "alloy")])
    # A block before counting: the provider built, and each script loaded into this Redis
    # (a script's first call on a server is EVALSHA, NOSCRIPT, SCRIPT LOAD, EVALSHA again).
    assert synthesize_block(ctx, first, 0) == Outcome.COMBINE
    outcomes = []
    sent = commands_sent(
        ctx.redis, redis_server.port, lambda: outcomes.append(synthesize_block(ctx, job_id, 0))
    )
    assert outcomes == [Outcome.COMBINE]
    made = [c for c in sent if c != "PING"]  # PING: the watcher's stop
    assert len(made) <= 6, made
    assert made.count("EVALSHA") == 5 and made.count("HGET") == 1, made
