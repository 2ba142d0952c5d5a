"""A lossy file's own true peak kept under the ceiling: measured on the decoded file, dipped
where the encoder pushed it over, encoded again."""

from __future__ import annotations

import av
import numpy as np
import pytest

from tests.utils.test_loudness import speechlike
from utils.audio.encoders import encode_file
from utils.audio.formats import OutputFormat
from utils.audio.loudness import integrated_lufs, level, true_peak_db
from utils.audio.loudness_target import LoudnessTarget
from utils.audio.peak_guard import dipped, keep_under_ceiling, overs

# loud enough that the limiter holds the peaks right at the ceiling
TARGET = LoudnessTarget(-14.0, -3.0)


@pytest.fixture(scope="module")
def leveled_speech():
    """Speech-like audio leveled with its true peaks right at the ceiling (no codec headroom):
    whatever an encoder adds passes it somewhere."""
    leveled, _ = level(speechlike(3, seed=1), 24000, TARGET, headroom_db=0.5)
    return leveled


def decoded(path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        pieces = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
        return np.concatenate(pieces), stream.sample_rate


@pytest.mark.parametrize("name", ["m4b_24000_64", "opus_24000_32"])
def test_the_file_keeps_the_ceiling_its_blocks_kept_alone(leveled_speech, name, tmp_path):
    fmt = OutputFormat.parse(name)
    # the block at every eighth of a frame: where the encoder's frames fall is what moves peaks
    gap = np.zeros(2400, np.int16)
    pieces = [p for k in range(0, 1024, 128) for p in (np.zeros(k, np.int16), leveled_speech, gap)]
    path = tmp_path / f"book.{fmt.extension}"
    encode_file(fmt, pieces, path)
    before, rate = decoded(path)
    passed = overs(path, fmt.sample_rate, TARGET.true_peak_db)
    assert passed, "the encoder kept every copy under the ceiling: nothing here to guard"
    assert true_peak_db(before, rate) > TARGET.true_peak_db

    dips = keep_under_ceiling(
        path,
        fmt.sample_rate,
        TARGET.true_peak_db,
        lambda dips: encode_file(fmt, dipped(pieces, dips), path),
    )
    after, _ = decoded(path)
    assert dips[: len(passed)] == passed
    assert true_peak_db(after, rate) <= TARGET.true_peak_db
    assert overs(path, fmt.sample_rate, TARGET.true_peak_db) == []
    # dips where it passed, nothing else: the loudness stays within half a LU of where it was,
    # though here the encoder passed the ceiling 50-140 times in 25 s (leveled blocks keep a
    # codec headroom, and pass it far more rarely)
    assert integrated_lufs(after, rate) == pytest.approx(integrated_lufs(before, rate), abs=0.5)
    assert after.size == before.size


def test_a_dip_turns_down_only_around_its_place():
    from utils.audio.peak_guard import DIP_MARGIN_DB, DIP_REACH, GROUP, Over

    tone = np.full(48000, 10000, np.int16)
    out = np.concatenate(list(dipped([tone[:10000], tone[10000:]], [Over(24000, 6.0)])))
    deepest = 10000 * 10 ** (-(6.0 + DIP_MARGIN_DB) / 20)  # the margin too
    assert out[24000] == pytest.approx(deepest, abs=2)
    reach = DIP_REACH + GROUP
    assert (out[: 24000 - reach] == 10000).all() and (out[24000 + reach :] == 10000).all()
    assert (out[24000 - reach // 2 : 24000 + reach // 2] < 10000).all()
