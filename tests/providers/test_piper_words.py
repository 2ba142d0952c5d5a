"""Piper's word timings with the real bundled voice: each word of the text where the model's own
durations put it, and where speech starts in the audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.words_bench import TEXT as LIST_TEXT
from bench.words_bench import onset_errors
from config import ProviderConfig
from settings.local_models import LocalEngine
from tests.audio_helpers import rms
from utils.audio.marks import Source, word_ranges
from workers.providers import piper_words
from workers.providers.base import SynthesisRequest
from workers.providers.derived_models import cached_derived
from workers.providers.piper import PiperProvider

TEXT = (
    "I have 42 apples, said Dr. Smith in the U.S.A. today — really! "
    "The bells rang at 7:30, and everyone (even the cat) looked up."
)
SILENCE = 100  # RMS of int16 samples: Piper's pauses are below this


def provider_with(derived: Path) -> PiperProvider:
    engine = LocalEngine(device="cpu", derived_dir=derived)
    return PiperProvider("piper", ProviderConfig(type="piper", engine=engine))


@pytest.fixture(scope="module")
def derived(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def piper(derived) -> PiperProvider:
    return provider_with(derived)


def speak(provider: PiperProvider, text: str, **changes):
    audio = provider.synthesize(
        SynthesisRequest(text=text, voice=provider.default_voice, **changes)
    )
    return audio, np.frombuffer(audio.data, dtype="<i2")


def test_the_bundled_voice_loads_from_a_copy_with_alignments_made_once(piper, derived):
    voice = piper.loaded.get(piper.default_voice)
    source = piper.installed()[piper.default_voice]
    copy = cached_derived(source, derived, piper_words.ALIGNMENTS)
    assert copy is not None and copy.parent == derived
    assert len(voice.session.get_outputs()) == 2  # the audio, and samples per phoneme id
    assert not list(derived.glob("*.part"))

    def never(source):
        raise AssertionError("derived again")

    another = provider_with(derived)  # another process of the machine: opens the copy
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(piper_words, "with_alignments", never)
        loaded = another.loaded.get(another.default_voice)
    assert len(loaded.session.get_outputs()) == 2


def test_every_word_is_timed_in_order_inside_the_audio(piper):
    audio, samples = speak(piper, TEXT)
    marks = audio.marks
    assert marks.source == Source.SYNTHESIZED
    assert [(w.char_start, w.char_end) for w in marks.words] == word_ranges(TEXT)
    assert [TEXT[w.char_start : w.char_end] for w in marks.words] == TEXT.split()
    for before, after in zip(marks.words, marks.words[1:], strict=False):
        assert before.end <= after.start or after.start == after.end
    for word in marks.words:
        assert 0 <= word.start <= word.end <= len(samples)
        if word.end > word.start:  # "—" is said by nothing
            # speech, not the silence between words (a short word like "at" measures 900-1,500
            # from run to run: Piper's noise varies each synthesis)
            assert rms(samples[word.start : word.end]) > 5 * SILENCE, TEXT[word.char_start :]
    # sentences stay exact: end to end over the whole audio, each word inside its own
    assert marks.sentences[0].start == 0 and marks.sentences[-1].end == len(samples)
    for sentence in marks.sentences:
        inside = [w for w in marks.words if sentence.char_start <= w.char_start < sentence.char_end]
        assert inside and all(sentence.start <= w.start <= w.end <= sentence.end for w in inside)


def test_numbers_and_abbreviations_land_on_the_words_of_the_text(piper):
    audio, samples = speak(piper, TEXT)
    rate = audio.sample_rate
    words = {TEXT[w.char_start : w.char_end]: w for w in audio.marks.words}
    # "42" is two phoneme words (forty two), "7:30" three, "Dr." and "U.S.A." one each: each
    # is the whole of its own word, the word after it starting where it ends or later
    for said, after in (("42", "apples,"), ("Dr.", "Smith"), ("U.S.A.", "today"), ("7:30,", "and")):
        assert words[said].end <= words[after].start
    assert (words["42"].end - words["42"].start) / rate > 0.4
    assert (words["7:30,"].end - words["7:30,"].start) / rate > 0.5
    assert (words["U.S.A."].end - words["U.S.A."].start) / rate > 0.35
    # "in the" is said as one phoneme word: both words still get their share of it
    assert words["in"].end > words["in"].start and words["the"].end > words["the"].start
    assert words["in"].end <= words["the"].start
    assert words["—"].start == words["—"].end == words["today"].end


def test_word_starts_land_where_speech_starts(piper):
    audio, samples = speak(piper, LIST_TEXT)
    measured = onset_errors(LIST_TEXT, audio.marks, samples, audio.sample_rate)
    assert measured["words"] == measured["text_words"] == len(LIST_TEXT.split())
    assert measured["words_counted"] >= 25
    assert measured["median_ms"] <= 20, measured
    assert measured["p95_ms"] <= 50, measured


def test_faster_speech_keeps_words_on_their_onsets(piper):
    normal, _ = speak(piper, LIST_TEXT)
    audio, samples = speak(piper, LIST_TEXT, speed=1.5)
    assert len(samples) < 0.8 * len(normal.data) // 2
    measured = onset_errors(LIST_TEXT, audio.marks, samples, audio.sample_rate)
    assert measured["median_ms"] <= 20, measured
    assert measured["p95_ms"] <= 50, measured


def test_a_model_that_cannot_give_alignments_still_has_exact_sentences(tmp_path, monkeypatch):
    def refuse(source):
        raise ValueError("no ceil tensors detected")

    monkeypatch.setattr(piper_words, "with_alignments", refuse)
    provider = provider_with(tmp_path / "models")
    audio, samples = speak(provider, "Hello there. How are you?")
    assert audio.marks.words == ()
    assert [s.char_end for s in audio.marks.sentences] == [12, 25]
    assert audio.marks.sentences[-1].end == len(samples)
