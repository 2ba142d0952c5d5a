"""The Kokoro engine with the real int8 Kokoro-82M and real voices (simulator/kokoro_repo.py): it
speaks, and its sentence and word marks land where the audio has sound."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from simulator import kokoro_repo
from tests.audio_helpers import rms
from workers.providers import espeak
from workers.providers.kokoro_engine import KokoroModel
from workers.providers.kokoro_model import DURATIONS, FRAME_SAMPLES
from workers.providers.kokoro_text import SPACE, runs, tokenize
from workers.providers.kokoro_voices import (
    blend_info,
    blend_text,
    load_style,
    mix,
    parse_blend,
    voice_info,
)
from workers.providers.onnx_device import execution_providers

TEXT = "Hello world, this is a test of 42 apples. The sun is bright today!"
SHORT = "Good morning, how are you today?"
SILENCE = 50  # RMS of int16 samples: what the model makes between phrases is below this


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return kokoro_repo.build(tmp_path_factory.mktemp("kokoro"))


@pytest.fixture(scope="module")
def derived(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("derived")


@pytest.fixture(scope="module")
def model(repo, derived) -> KokoroModel:
    return KokoroModel(repo, kokoro_repo.VARIANT_FILE, derived_dir=derived, wide=True)


@pytest.fixture(scope="module")
def styles(repo) -> dict[str, np.ndarray]:
    return {name: load_style(repo / "voices" / f"{name}.bin") for name in ("jf_alpha", "jm_kumo")}


@pytest.fixture(scope="module")
def speech(model, styles):
    return model.speak(TEXT, styles["jf_alpha"], "en-us")


def test_english_text_is_spoken(model, speech):
    assert model.device == "cpu" and model.providers == ["CPUExecutionProvider"]
    assert speech.samples.dtype == np.int16 and speech.sample_rate == 24000
    # 13 words: about 2.5 words a second, give or take
    assert 3.0 < speech.seconds < 8.0
    assert rms(speech.samples) > 20 * SILENCE


def test_durations_count_the_audio_in_frames_of_600_samples(model, styles, derived):
    import onnx

    (copy,) = derived.glob("*-durations.onnx")
    assert DURATIONS in {
        o.name for o in onnx.load(str(copy), load_external_data=False).graph.output
    }
    assert DURATIONS in {o.name for o in model.session.get_outputs()}
    ids = model.tokens(espeak.phonemize("Hello there.", "en-us"))
    audio, frames = model.run(ids, styles["jf_alpha"])
    assert len(frames) == len(ids) + 2  # the two pads too
    assert abs(int(frames.sum()) * FRAME_SAMPLES - len(audio)) < FRAME_SAMPLES


def test_sentences_and_words_lie_in_the_audio_where_there_is_sound(speech):
    marks, total = speech.marks, len(speech.samples)
    assert marks.source == "aligned"
    assert [TEXT[s.char_start : s.char_end] for s in marks.sentences] == [
        "Hello world, this is a test of 42 apples.",
        "The sun is bright today!",
    ]
    assert marks.sentences[0].start == 0 and marks.sentences[-1].end == total
    for before, after in zip(marks.sentences, marks.sentences[1:], strict=False):
        assert before.end == after.start
    assert [TEXT[w.char_start : w.char_end] for w in marks.words] == TEXT.split()
    for before, after in zip(marks.words, marks.words[1:], strict=False):
        assert before.end <= after.start
    for word in marks.words:
        assert 0 <= word.start < word.end <= total
        assert rms(speech.samples[word.start : word.end]) > 10 * SILENCE, TEXT[word.char_start :]
    # "42" is two words of speech, not one
    forty_two = marks.words[TEXT.split().index("42")]
    assert forty_two.end - forty_two.start > 0.4 * 24000


def test_a_blend_speaks_between_its_voices(model, styles, repo):
    blend = parse_blend("jf_alpha(1)+jm_kumo(1)")
    mixed = mix([load_style(repo / "voices" / f"{n}.bin") for n, _ in blend], [w for _, w in blend])
    np.testing.assert_allclose(mixed, (styles["jf_alpha"] + styles["jm_kumo"]) / 2, atol=1e-6)
    pitch = {
        name: _pitch(model.speak(SHORT, style, "en-us").samples)
        for name, style in (*styles.items(), ("blend", mixed))
    }
    low, high = sorted([pitch["jf_alpha"], pitch["jm_kumo"]])
    assert high > 2 * low  # a female and a male voice
    assert 1.2 * low < pitch["blend"] < high / 1.2, pitch


def test_speed_shortens_the_audio(model, styles):
    normal = model.speak(SHORT, styles["jf_alpha"], "en-us")
    fast = model.speak(SHORT, styles["jf_alpha"], "en-us", speed=1.5)
    assert 0.85 / 1.5 < fast.seconds / normal.seconds < 1.15 / 1.5
    with pytest.raises(ValueError, match="speed"):
        model.speak(SHORT, styles["jf_alpha"], "en-us", speed=3)


def test_text_past_a_run_is_split_and_all_spoken(model, styles, speech):
    split = model.speak(TEXT, styles["jf_alpha"], "en-us", run_tokens=40)
    count = len(runs(tokenize(TEXT, "en-us", model.vocab), 40, model.vocab[" "]))
    assert count >= 3
    # the same speech, each run with its own lead-in and tail (measured: up to 0.8 s a run)
    assert speech.seconds * 0.8 < split.seconds < speech.seconds * 1.1 + (count - 1)
    assert [TEXT[w.char_start : w.char_end] for w in split.marks.words] == TEXT.split()
    for word in split.marks.words:
        assert rms(split.samples[word.start : word.end]) > 10 * SILENCE


def test_runs_fit_the_model_and_never_cut_a_word(repo):
    vocab = json.loads((repo / "tokenizer.json").read_text("utf-8"))["model"]["vocab"]
    text = " ".join(["The quick brown fox, who was tired, jumps over the lazy dog."] * 20)
    tokens = tokenize(text, "en-us", vocab)
    assert len(tokens.ids) > 510
    pieces = runs(tokens, 400, vocab[" "])
    assert len(pieces) > 1 and all(b - a <= 400 for a, b in pieces)
    for word in tokens.words:  # every word inside one run
        assert any(a <= word.start and word.end <= b for a, b in pieces)
    # a clause end is preferred to a space
    small = runs(tokens, 30, vocab[" "])
    assert all(tokens.ids[b - 1] in (vocab[","], vocab["."]) for a, b in small[:4])
    assert SPACE in tokens.breaks.values()


def test_blend_syntax():
    assert parse_blend("af_bella") == [("af_bella", 1.0)]
    assert parse_blend(" af_bella(2) + af_sky(1) ") == [("af_bella", 2 / 3), ("af_sky", 1 / 3)]
    assert parse_blend("a_x+b_y") == [("a_x", 0.5), ("b_y", 0.5)]
    assert blend_text(parse_blend("af_bella(4)+af_sky(2)")) == "af_bella(0.6667)+af_sky(0.3333)"
    assert blend_text(parse_blend("af_sky(1)+af_bella(2)")) != blend_text(
        parse_blend("af_bella(2)+af_sky(1)")
    )
    for bad in ("", "af_bella+", "af_bella(x)", "af bella", "af_bella(0)", "a(1)(2)"):
        with pytest.raises(ValueError, match="af_bella\\(2\\)\\+af_sky\\(1\\)|add up to 0"):
            parse_blend(bad)
    with pytest.raises(ValueError, match="'af_bella\\(x\\)'"):
        parse_blend("af_sky+af_bella(x)")


def test_voice_names_say_language_and_gender():
    assert voice_info("af_bella") == ("en_US", "en-us", "female")
    assert voice_info("bm_george") == ("en_GB", "en-gb", "male")
    assert voice_info("jf_alpha") == ("ja_JP", "ja", "female")
    assert voice_info("zm_yunxi") == ("zh_CN", "cmn", "male")
    assert voice_info("pf_dora").espeak == "pt-br" and voice_info("ff_siwis").espeak == "fr-fr"
    assert blend_info(parse_blend("jm_kumo+af_bella")).language == "ja_JP"
    with pytest.raises(ValueError, match="first letters"):
        voice_info("xx_nobody")


def test_style_files_are_checked(tmp_path):
    (tmp_path / "short.bin").write_bytes(b"\0" * 1024)
    with pytest.raises(ValueError, match="510 x 256"):
        load_style(tmp_path / "short.bin")


def test_espeak_keeps_punctuation():
    said = espeak.phonemize('Hello, world! "Is it" (really) 42... yes; no: maybe?', "en-us")
    assert said.count(",") == 1 and "!" in said and said.endswith("?")
    for mark in ('"', "(", ")", "…", ";", ":"):
        assert mark in said, said
    assert "ˈ" in said  # stress marks kept
    assert len(said.split()) == 10  # 42 is two words of speech


def test_espeak_is_safe_across_threads():
    texts = {"en-us": "The weather is lovely today.", "fr-fr": "Il fait très beau aujourd'hui."}
    alone = {language: espeak.phonemize(text, language) for language, text in texts.items()}
    assert alone["en-us"] != alone["fr-fr"]
    results: dict[str, set[str]] = {language: set() for language in texts}

    def repeat(language: str) -> None:
        for _ in range(200):
            results[language].add(espeak.phonemize(texts[language], language))

    threads = [threading.Thread(target=repeat, args=(language,)) for language in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {language: {said} for language, said in alone.items()}


def test_cuda_asked_for_without_cuda_falls_back_to_the_cpu(caplog):
    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this machine has CUDA")
    with caplog.at_level(logging.WARNING):
        assert execution_providers("cuda") == ["CPUExecutionProvider"]
    assert "CUDA" in caplog.text
    assert execution_providers("auto") == ["CPUExecutionProvider"]
    with pytest.raises(ValueError):
        execution_providers("tpu")


def _pitch(samples: np.ndarray, rate: int = 24000) -> float:
    """Median F0 of the loud frames, by autocorrelation between 70 and 400 Hz."""
    found = []
    for i in range(0, len(samples) - 1200, 600):
        frame = samples[i : i + 1200].astype(np.float64)
        if rms(frame) < 30 * SILENCE:
            continue
        frame -= frame.mean()
        corr = np.correlate(frame, frame, "full")[len(frame) - 1 :]
        low, high = rate // 400, rate // 70
        lag = low + int(np.argmax(corr[low:high]))
        if corr[lag] > 0.3 * corr[0]:
            found.append(rate / lag)
    return float(np.median(found))
