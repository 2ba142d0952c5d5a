import numpy as np
import pytest

from tests.audio_helpers import decode, ffmpeg_decode, rms, tone
from utils.audio.formats import OutputFormat
from utils.audio.mp3_frames import bare_frames, iter_frames, main_data_begin, silence_frame
from utils.audio.pcm import encode_mp3
from utils.audio.timeline import ENCODER_DELAY, plan_timeline

FMT = OutputFormat.parse("mp3_24000_64")


def test_encoder_delay_is_where_an_impulse_reappears():
    signal = np.zeros(FMT.sample_rate, dtype=np.int16)
    signal[5000:5050] = 20000
    decoded = decode(encode_mp3(signal, FMT), FMT.sample_rate)
    first_loud = int(np.argmax(np.abs(decoded) > 5000))
    assert abs(first_loud - 5000 - ENCODER_DELAY) <= 2


@pytest.mark.parametrize("name", ["mp3_22050_64", "mp3_24000_64", "mp3_44100_128"])
def test_frame_count_predicts_the_decoded_length(name):
    fmt = OutputFormat.parse(name)
    frames = bare_frames(encode_mp3(tone(0.777, fmt.sample_rate), fmt), fmt)
    assert decode(frames.data, fmt.sample_rate).size == frames.n_samples
    assert frames.n_samples >= int(0.777 * fmt.sample_rate) + ENCODER_DELAY


def test_silence_frame_is_self_contained_and_silent():
    frame = silence_frame(FMT)
    offset, header = next(iter_frames(frame))
    assert (offset, header.length) == (0, len(frame))
    assert main_data_begin(frame, 0, header) == 0
    decoded = decode(frame * 10, FMT.sample_rate)
    assert decoded.size == 10 * FMT.samples_per_frame
    assert np.abs(decoded).max() == 0


def test_id3_tags_and_info_frames_are_stripped():
    frames = bare_frames(encode_mp3(tone(0.3, 24000), FMT), FMT)
    info = bytearray(silence_frame(FMT))
    info[4 + 9 : 4 + 13] = b"Info"  # a Xing/Info header sits after the side info
    id3 = b"ID3\x04\x00\x00\x00\x00\x00\x05hello"
    tagged = id3 + bytes(info) + frames.data + b"TAG" + b"\x00" * 125
    again = bare_frames(tagged, FMT)
    assert again.data == frames.data and again.n_frames == frames.n_frames


def test_frames_of_another_format_are_refused():
    other = encode_mp3(tone(0.2, 44100), OutputFormat.parse("mp3_44100_128"))
    with pytest.raises(ValueError, match="mp3_24000_64"):
        bare_frames(other, FMT)


def test_timeline_absorbs_padding_and_lead_in_into_the_pause():
    spf, rate = FMT.samples_per_frame, FMT.sample_rate
    blocks = [(24000, 44, 0), (12000, 24, 300), (6000, 13, 700)]
    timeline = plan_timeline(blocks, FMT)
    placed = timeline.blocks
    assert placed[0].start_sample == ENCODER_DELAY
    for (samples, frames, pause_ms), here, after in zip(blocks, placed, placed[1:], strict=False):
        gap = after.start_sample - here.end_sample
        if pause_ms * rate / 1000 >= frames * spf - samples:  # long enough to absorb the overhead
            assert abs(gap - pause_ms * rate / 1000) <= spf / 2
        else:
            assert gap <= 0.08 * rate
    assert timeline.total_samples == sum(
        (f + p.silence_frames_after) * spf for (_, f, _), p in zip(blocks, placed, strict=True)
    )


def test_stitched_blocks_play_gapless_with_exact_pauses():
    """Real encodes joined frame by frame decode to the planned timeline, in ffmpeg too."""
    rate = FMT.sample_rate
    tones = [tone(0.5, rate, 440), tone(0.7, rate, 660), tone(0.4, rate, 880)]
    pauses = [0, 300, 700]
    encoded = [bare_frames(encode_mp3(t, FMT), FMT) for t in tones]
    timeline = plan_timeline(
        [(t.size, e.n_frames, p) for t, e, p in zip(tones, encoded, pauses, strict=True)], FMT
    )
    stitched = b"".join(
        e.data + silence_frame(FMT) * p.silence_frames_after
        for e, p in zip(encoded, timeline.blocks, strict=True)
    )
    for decoded in (decode(stitched, rate), ffmpeg_decode(stitched, rate)):
        assert abs(decoded.size - timeline.total_samples) <= FMT.samples_per_frame
        for t, placed in zip(tones, timeline.blocks, strict=True):
            inner = decoded[placed.start_sample + 200 : placed.end_sample - 200]
            assert rms(inner) > 0.5 * rms(t)  # the block is where the timeline says
        # Nothing but silence between blocks, past the one granule of pre-echo a hard onset
        # has in any MP3 encode.
        margin = FMT.samples_per_frame + 50
        for here, after in zip(timeline.blocks, timeline.blocks[1:], strict=False):
            if after.start_sample - here.end_sample > 3 * margin:
                assert rms(decoded[here.end_sample + margin : after.start_sample - margin]) < 20
