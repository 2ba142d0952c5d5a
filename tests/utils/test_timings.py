"""Sentence and word timings: the provider's marks, the estimator measured against Piper's exact
sentences, placement in the final audio, and the subtitles made from them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import srt
import webvtt

from bench.timings_bench import PARAGRAPHS, summary
from config import ProviderConfig
from tests.audio_helpers import tone
from tests.conftest import PROVIDERS
from utils.audio.marks import Source, marks_from_alignment, sentence_ranges
from utils.audio.pcm import ProviderAudio, to_pcm
from utils.audio.sentence_estimate import estimate_marks
from utils.audio.timings import Timed, block_timings, job_timings
from utils.jobs.models import BlockRecord, BlockSpec, BlockStatus, JobRecord, JobStatus
from utils.text.subtitles import MAX_LINE_CHARS, build_cues, to_srt, to_vtt
from workers.providers import ProviderRegistry, SynthesisRequest

RATE = 24000


def test_an_alignment_gives_each_word_and_sentence_its_first_and_last_character():
    text = "Hi there. Bye."
    starts = [0.1 * i for i in range(len(text))]
    ends = [0.1 * i + 0.08 for i in range(len(text))]
    marks = marks_from_alignment(text, list(text), starts, ends, 1000)
    assert marks.source == Source.ALIGNED
    words = [(text[w.char_start : w.char_end], w.start, w.end) for w in marks.words]
    assert words == [("Hi", 0, 180), ("there.", 300, 880), ("Bye.", 1000, 1380)]
    sentences = [(text[s.char_start : s.char_end], s.start, s.end) for s in marks.sentences]
    assert sentences == [("Hi there.", 0, 880), ("Bye.", 1000, 1380)]


def test_an_alignment_of_other_characters_is_not_trusted():
    assert marks_from_alignment("Hello.", list("Hallo."), [0.0] * 6, [0.1] * 6, 1000) is None


@pytest.fixture(scope="module")
def piper():
    return ProviderRegistry({"piper": ProviderConfig(**PROVIDERS["piper"])}).get("piper")


def test_piper_marks_each_sentence_exactly_and_the_estimator_comes_close(piper):
    """The estimator sees only the joined audio and the text; Piper's own pieces are the truth.
    Measured on three paragraphs (bench/timings_bench.py runs all eight)."""
    errors, proportional = [], []
    for text in PARAGRAPHS[:3]:
        audio = piper.synthesize(SynthesisRequest(text, piper.default_voice))
        samples = to_pcm(audio, audio.sample_rate)
        truth = audio.marks
        assert truth.source == Source.SYNTHESIZED
        assert [(s.char_start, s.char_end) for s in truth.sentences] == sentence_ranges(text)
        assert truth.sentences[0].start == 0 and truth.sentences[-1].end == samples.size
        assert all(
            a.end == b.start for a, b in zip(truth.sentences, truth.sentences[1:], strict=False)
        )

        estimated = estimate_marks(samples, audio.sample_rate, text).sentences
        assert [(s.char_start, s.char_end) for s in estimated] == sentence_ranges(text)
        for est, real in zip(estimated[1:], truth.sentences[1:], strict=True):
            errors.append(abs(est.start - real.start) * 1000 / audio.sample_rate)
        # the baseline: boundaries by characters alone, over the whole block
        chars = np.cumsum([s.char_end - s.char_start for s in truth.sentences])
        for share, real in zip(chars[:-1] / chars[-1], truth.sentences[1:], strict=True):
            proportional.append(abs(share * samples.size - real.start) * 1000 / audio.sample_rate)
    measured, baseline = summary(errors), summary(proportional)
    print("estimator", measured, "by characters", baseline)
    assert measured["median_ms"] <= 50, measured
    assert measured["within_100ms"] >= 0.6, measured
    assert measured["median_ms"] < baseline["median_ms"] / 3, (measured, baseline)


def test_without_pauses_sentences_share_the_audio_by_characters():
    samples = tone(4.0, RATE)
    text = "One two three. Four five six seven eight nine ten eleven!"
    spans = estimate_marks(samples, RATE, text).sentences
    assert [s.start for s in spans] == [0, round(14 / (14 + 42) * samples.size)]
    assert spans[-1].end == samples.size


def test_a_long_pause_at_a_comma_is_not_taken_for_the_sentences_end():
    """Speech (tones) of 1.2 s, 0.6 s pause at the comma, 0.35 s, 0.25 s pause, 0.5 s: the
    comma's pause is longer, and nearer where the sentence's end is expected by characters."""
    text = "That was a long wait indeed, truly. Now we go."

    def speech(seconds):
        return tone(seconds, RATE)

    def quiet(seconds):
        return np.zeros(int(seconds * RATE), dtype=np.int16)

    samples = np.concatenate([speech(1.2), quiet(0.6), speech(0.35), quiet(0.25), speech(0.5)])
    spans = estimate_marks(samples, RATE, text).sentences
    pause_end = int(2.4 * RATE)
    assert pause_end - int(0.06 * RATE) <= spans[1].start <= pause_end  # just before "Now"


def test_marks_move_to_the_jobs_rate_with_the_audio():
    text = "Hi there. Bye."
    marks = marks_from_alignment(text, list(text), [0.1] * 14, [0.2] * 14, 16000)
    audio = ProviderAudio(b"\0\0" * 16000, "pcm_s16le", 16000, marks=marks)
    samples = to_pcm(audio, RATE)
    stored = json.loads(block_timings(audio, samples, RATE, text))
    assert stored["rate"] == RATE and stored["source"] == "aligned"
    assert stored["sentences"][0] == [0, 9, 2400, 4800]
    assert len(stored["words"]) == 3


def _job(blocks: list[tuple[str, int, int, int]], combine: bool = True) -> JobRecord:
    """A completed job whose blocks are (text, start_ms, end_ms, duration_ms)."""
    job = JobRecord("j", "alice", JobStatus.COMPLETED, len(blocks), "mp3_24000_64", "", "", 0)
    job.combine = combine
    for index, (text, start_ms, end_ms, duration_ms) in enumerate(blocks):
        job.blocks.append(
            BlockRecord(
                index,
                BlockSpec(text, "piper", "v"),
                BlockStatus.COMPLETED,
                n_samples=duration_ms * RATE // 1000,
                start_ms=start_ms,
                end_ms=end_ms,
                duration_ms=duration_ms,
            )
        )
    return job


def test_times_are_the_blocks_offset_plus_the_span_in_its_own_samples():
    stored = json.dumps(
        {
            "rate": RATE,
            "source": "synthesized",
            "sentences": [[0, 3, 0, 12000], [4, 7, 12000, 36000]],
            "words": [],
        }
    )
    job = _job([("One Two.", 46, 1546, 1500), ("Old block.", 3_600_046, 3_601_046, 1000)])
    sentences, words = job_timings(job, [stored, None])
    assert [(s.text, s.start_ms, s.end_ms, s.source) for s in sentences] == [
        ("One", 46, 546, "synthesized"),
        ("Two", 546, 1546, "synthesized"),  # to the block's last sample: its end_ms
        ("Old block.", 3_600_046, 3_601_046, "estimated"),  # no timings kept: the whole block
    ]
    assert words == []
    sentences, _ = job_timings(_job([("One Two.", 46, 1546, 1500)], combine=False), [stored])
    assert sentences[0].start_ms == 0  # a job not combined: each block's own time


def _timed(block: int, text: str, start_ms: int, end_ms: int, chars: tuple[int, int]) -> Timed:
    return Timed(block, text, start_ms, end_ms, "aligned", chars)


def test_long_sentences_become_cues_of_two_short_lines_timed_by_their_words():
    text = (
        "This sentence is far too long to be shown at once, so it is cut at words into "
        "several cues of two lines each, & every <cue> starts with its first word."
    )
    words, at = [], 0
    for i, word in enumerate(text.split(" ")):
        at = text.index(word, at)
        words.append(
            _timed(0, word, 10_000 + 300 * i, 10_000 + 300 * i + 250, (at, at + len(word)))
        )
        at += len(word)
    sentence = _timed(0, text, 10_000, words[-1].end_ms, (0, len(text)))
    after = _timed(1, "Next.", words[-1].end_ms - 100, words[-1].end_ms + 500, (0, 5))
    cues = build_cues([sentence, after], words)

    parsed = list(srt.parse(to_srt(cues)))
    assert len(parsed) == len(cues) == 3
    for cue in parsed:
        lines = cue.content.split("\n")
        assert len(lines) <= 2 and all(len(line) <= MAX_LINE_CHARS for line in lines), lines
    for earlier, later in zip(parsed, parsed[1:], strict=False):
        assert earlier.end <= later.start
    starts = {w.text: w.start_ms for w in words}
    for cue in parsed[1:-1]:  # each cut starts with its first word's own time
        first = cue.content.split()[0]
        assert cue.start.total_seconds() * 1000 == starts[first], cue
    assert " ".join(c.content.replace("\n", " ") for c in parsed[:-1]) == text

    captions = webvtt.from_string(to_vtt(cues)).captions
    assert [c.start_time.in_milliseconds() for c in captions] == [c.start_ms for c in cues]
    vtt = to_vtt(cues)  # cue text is markup in WebVTT: & and < escaped
    assert "&amp;" in vtt and "&lt;cue&gt;" in vtt and "<cue>" not in vtt


def test_without_word_timings_a_long_sentence_is_cut_by_characters():
    text = "word " * 40
    sentence = _timed(0, text.strip(), 0, 10_000, (0, len(text.strip())))
    cues = build_cues([sentence], [])
    assert len(cues) == 3
    # the second cue starts at its first character's share of the sentence
    offset = len(" ".join(["word"] * sum(len(line.split()) for line in cues[0].lines))) + 1
    assert cues[1].start_ms == round(10_000 * offset / len(sentence.text))
    assert cues[-1].end_ms == 10_000
