import numpy as np
import pytest

from tests.audio_helpers import decode, tone
from utils.audio.formats import OutputFormat, describe_output_formats, output_format_names
from utils.audio.pcm import ProviderAudio, encode_mp3, to_pcm


def test_output_format_parses_known_names_and_refuses_others():
    fmt = OutputFormat.parse("mp3_24000_64")
    assert (fmt.sample_rate, fmt.bitrate_kbps, fmt.samples_per_frame) == (24000, 64, 576)
    assert OutputFormat.parse("mp3_44100_128").samples_per_frame == 1152
    for bad in ("mp3_16000_32", "wav_24000_64", "mp3_24000_320", "mp3"):
        with pytest.raises(ValueError):
            OutputFormat.parse(bad)
    assert all(OutputFormat.parse(name).name == name for name in output_format_names())


def test_every_family_has_one_home_for_its_facts():
    wav, opus, aac = (OutputFormat.parse(n) for n in ("wav_16000", "opus_48000_32", "aac_24000_64"))
    assert (wav.content_type, wav.extension, wav.bitrate_kbps) == ("audio/wav", "wav", None)
    assert (opus.content_type, opus.extension, opus.samples_per_frame) == ("audio/ogg", "opus", 960)
    assert (aac.content_type, aac.extension) == ("audio/mp4", "m4a")
    assert aac.family.stream_content_type == "audio/aac" and not aac.family.streams_as_file
    assert OutputFormat.parse("pcm_24000").content_type == "application/octet-stream"
    for bad in ("opus_22050_32", "flac_24000_64", "aac_24000", "pcm_11025", "ogg_24000"):
        with pytest.raises(ValueError, match=repr(bad)):
            OutputFormat.parse(bad)
    described = describe_output_formats()
    assert len(described) < 600  # readable in a 422, unlike 63 names
    assert "opus_{rate}_{kbps} (16000, 24000, 48000 Hz at 24, 32, 48, 64, 96 kbps)" in described


def test_pcm_is_resampled_to_the_job_rate_keeping_its_duration():
    source = tone(1.0, 22050)
    out = to_pcm(ProviderAudio(source.tobytes(), "pcm_s16le", 22050), 24000)
    assert out.dtype == np.int16
    assert abs(out.size - 24000) <= 2


def test_encoded_provider_audio_is_decoded_and_resampled():
    mp3 = encode_mp3(tone(0.5, 44100), OutputFormat.parse("mp3_44100_128"))
    out = to_pcm(ProviderAudio(mp3, "mp3"), 24000)
    # an MP3 decodes with encoder delay and frame padding, never shorter than its input
    assert 12000 <= out.size <= 12000 + 0.1 * 24000


@pytest.mark.parametrize("name", ["mp3_22050_64", "mp3_24000_64", "mp3_44100_128"])
def test_encode_then_decode_keeps_pitch_and_rate(name):
    fmt = OutputFormat.parse(name)
    samples = decode(encode_mp3(tone(1.0, fmt.sample_rate, 1000), fmt), fmt.sample_rate)
    spectrum = np.abs(np.fft.rfft(samples.astype(float)))
    peak_hz = np.argmax(spectrum) * fmt.sample_rate / samples.size
    assert abs(peak_hz - 1000) < 5
