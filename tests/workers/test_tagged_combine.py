"""A job with tags and chapters, made and combined by the worker functions (fake provider):
what its MP3 stream and final file hold, and how the two relate."""

from __future__ import annotations

import asyncio
import io
import uuid

import av
import redis.asyncio as aioredis
from mutagen.id3 import ID3

from api.streaming import stream_blocks
from utils.audio.formats import OutputFormat
from utils.audio.tags import id3_size
from utils.jobs.models import BlockSpec, JobOptions
from workers.combine import combine_job
from workers.synthesis import synthesize_block

FMT = OutputFormat.parse("mp3_24000_64")


def _stream(ctx, job) -> bytes:
    port = ctx.redis.connection_pool.connection_kwargs["port"]
    db = ctx.redis.connection_pool.connection_kwargs["db"]

    async def scenario():
        client = aioredis.Redis(port=port, db=db, decode_responses=True)
        try:
            return b"".join([c async for c in stream_blocks(client, ctx.storage, job, give_up_s=5)])
        finally:
            await client.aclose()

    return asyncio.run(scenario())


def _made(ctx, options: JobOptions | None, chapters: list[str | None]) -> str:
    job_id = str(uuid.uuid4())
    specs = [
        BlockSpec(f"block {i}", "free", "v1", 300, chapter=title)
        for i, title in enumerate(chapters)
    ]
    ctx.jobs.create(job_id, "alice", FMT.name, specs, options=options)
    for index in range(len(specs)):
        synthesize_block(ctx, job_id, index)
    return job_id


def _final(ctx, job_id: str) -> bytes:
    with ctx.storage.open(ctx.jobs.get(job_id).storage_key) as handle:
        return handle.read()


def test_the_stream_opens_with_the_submitted_tags_and_the_file_adds_chapters(ctx):
    options = JobOptions(title="The Book", author="An Author", album="Series")
    job_id = _made(ctx, options, ["Opening", None, "Second"])
    streamed = _stream(ctx, ctx.jobs.get(job_id, with_blocks=False))  # before the combine
    combine_job(ctx, job_id)
    final = _final(ctx, job_id)
    job = ctx.jobs.get(job_id)

    # the same frames, each after its own tag
    stream_tag, file_tag = id3_size(streamed), id3_size(final)
    assert 0 < stream_tag < file_tag
    assert streamed[stream_tag:] == final[file_tag:]
    opening = ID3(io.BytesIO(streamed[:stream_tag]))
    assert str(opening["TIT2"]) == "The Book" and not opening.getall("CHAP")
    tag = ID3(io.BytesIO(final[:file_tag]))
    assert (str(tag["TPE1"]), str(tag["TALB"])) == ("An Author", "Series")
    assert str(tag["TLEN"]) == str(job.duration_ms)
    chapters = sorted(tag.getall("CHAP"), key=lambda c: c.start_time)
    blocks = job.blocks
    assert [(str(c.sub_frames["TIT2"]), c.start_time, c.end_time) for c in chapters] == [
        ("Opening", blocks[0].start_ms, blocks[2].start_ms),
        ("Second", blocks[2].start_ms, job.duration_ms),
    ]
    # the tag does not change what a player computes: CBR, no Xing frame
    container = av.open(io.BytesIO(final))
    frame_ms = FMT.samples_per_frame * 1000 / FMT.sample_rate
    assert abs(container.duration / 1000 - job.duration_ms) <= frame_ms
    decoded = sum(f.samples for f in container.decode(audio=0))
    assert abs(decoded * 1000 / FMT.sample_rate - job.duration_ms) <= frame_ms


def test_chapters_alone_tag_the_file_but_not_the_stream(ctx):
    job_id = _made(ctx, None, ["Only chapter", None])
    streamed = _stream(ctx, ctx.jobs.get(job_id, with_blocks=False))
    combine_job(ctx, job_id)
    final = _final(ctx, job_id)
    assert id3_size(streamed) == 0 and streamed == final[id3_size(final) :]
    assert len(ID3(io.BytesIO(final)).getall("CHAP")) == 1


def test_a_job_without_tags_or_chapters_streams_its_file_byte_for_byte(ctx):
    job_id = _made(ctx, None, [None, None])
    streamed = _stream(ctx, ctx.jobs.get(job_id, with_blocks=False))
    combine_job(ctx, job_id)
    final = _final(ctx, job_id)
    assert streamed == final and id3_size(final) == 0
