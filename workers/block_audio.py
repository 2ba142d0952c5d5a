"""A block's audio made ready to store: the CPU part of a block, from what its provider sent to
the files it keeps and what its record says of them.

Pure: no Redis, no storage, nothing built per process, so it runs as well in a lane process of
its own (workers/cpu_lane.py) as inline; the caller stores the files it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from utils.audio.encoders import encode_bytes, pcm_bytes
from utils.audio.formats import OutputFormat
from utils.audio.loudness import level_block
from utils.audio.loudness_target import LoudnessTarget
from utils.audio.mp3_frames import bare_frames
from utils.audio.passthrough import Delivered, as_delivered, speech_samples
from utils.audio.pcm import ProviderAudio, apply_gain, encode_mp3, fade_edges, to_pcm
from utils.audio.timings import block_marks, block_timings, dump_marks
from utils.jobs.models import BlockSpec
from utils.lexicons.rules import decode_spans, written_marks


@dataclass(frozen=True)
class PreparedBlock:
    files: list[tuple[str, bytes]]  # (storage key, bytes) to store, in order
    record: dict  # what the block's record keeps of them


def prepare_block(
    provider_name: str,
    spec: BlockSpec,
    audio: ProviderAudio,
    fmt: OutputFormat,
    loudness: LoudnessTarget | None,
    keys: tuple[str, str | None],
) -> PreparedBlock:
    """The provider's audio in the job's format, leveled to its target, as the files to store
    at `keys` (utils/storage/keys.py block_keys) and the block's record of them."""
    if spec.said_map and audio.marks is not None:  # marks over the text said: onto the user's
        audio = replace(audio, marks=written_marks(audio.marks, decode_spans(spec.said_map)))
    # Already in the job's format, and nothing asks for its samples: kept as it came
    if loudness is None and not spec.volume_db and (delivered := as_delivered(audio, fmt)):
        return _as_delivered(spec, audio, fmt, delivered, keys)
    key, pcm_key = keys
    samples = apply_gain(to_pcm(audio, fmt.sample_rate), spec.volume_db)
    if samples.size == 0:
        raise ValueError(f"{provider_name} returned no audio")
    samples, measured = level_block(samples, fmt, loudness)  # to the job's target, if any
    files, n_frames = _encoded(fmt, fade_edges(samples, fmt.sample_rate), key, pcm_key)
    record = {
        **measured,
        "storage_key": key,
        "n_samples": int(samples.size),
        "n_frames": n_frames,
        "duration_ms": round(samples.size * 1000 / fmt.sample_rate),
        "timings": block_timings(audio, samples, fmt.sample_rate, spec.text),
    }
    return PreparedBlock(files, record)


def _as_delivered(
    spec: BlockSpec,
    audio: ProviderAudio,
    fmt: OutputFormat,
    delivered: Delivered,
    keys: tuple[str, str | None],
) -> PreparedBlock:
    """A block kept as the provider sent it (utils/audio/passthrough.py)."""
    key, pcm_key = keys
    if fmt.is_mp3:
        files = [(key, delivered.data)]
    else:
        files = [(pcm_key, delivered.data)]
        if key != pcm_key:  # the block's own file, in its family's container
            files.append((key, encode_bytes(fmt, speech_samples(delivered, fmt))))
    marks = block_marks(
        audio, delivered.n_samples, fmt.sample_rate, spec.text,
        lambda: speech_samples(delivered, fmt),
    )  # fmt: skip
    record = {
        "storage_key": key,
        "n_samples": delivered.n_samples,
        "n_frames": delivered.n_frames,
        "duration_ms": round(delivered.n_samples * 1000 / fmt.sample_rate),
        "timings": dump_marks(marks, fmt.sample_rate),
    }
    return PreparedBlock(files, record)


def _encoded(
    fmt: OutputFormat, samples, key: str, pcm_key: str | None
) -> tuple[list[tuple[str, bytes]], int]:
    """The block's audio in the job's format for `key`; outside MP3 its PCM for `pcm_key` too,
    which the combine and streams encode from. With the MP3 frames made (0 outside MP3)."""
    if fmt.is_mp3:
        frames = bare_frames(encode_mp3(samples, fmt), fmt)
        return [(key, frames.data)], frames.n_frames
    files = [(pcm_key, pcm_bytes(samples))]
    if key != pcm_key:
        files.append((key, encode_bytes(fmt, samples)))
    return files, 0
