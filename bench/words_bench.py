"""Word timings against the audio: where Piper and Kokoro say each word starts, and where speech
starts in the audio they made.

    python -m bench.words_bench

A list read out ("Red, green, 42 apples, ...") puts a pause before every item, so where each
item's first word starts can be found in the audio itself: near the reported start, the
quietest moment (the pause), then the first moment after it when the energy of a 5 ms window
rises above ONSET_DB below the audio's loud level. The distance from there to the reported
start is that word's error; the words measured are the first and those after a comma. Numbers
and an abbreviation in the list check that words land on the text's own words where the
phonemizer says them otherwise ("42": two phoneme words; "Dr.": one).

Target (issue: exact word timings for Piper): median error at most 20 ms, 95th percentile at
most 50 ms, for each engine.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from utils.audio.marks import Marks, word_ranges

TEXT = (
    "Red, green, blue, 42 apples, yellow, orange, Dr. Smith, purple, silver, white, black, "
    "pink, brown, gold, 7 lemons, navy, maroon, lime, olive, teal, coral, amber, ivory. "
    "Then mint, rose, sand, slate, plum, and jade."
)
MEDIAN_MS, P95_MS = 20.0, 50.0
ONSET_DB = 30.0  # below the loud level (95th percentile of window energies)
SEARCH_MS = 150  # how far from a reported start the pause before the word is looked for
WINDOW_MS = 5


def _levels(samples: np.ndarray, rate: int) -> tuple[np.ndarray, int, int]:
    """RMS of WINDOW_MS windows every 1 ms, the hop and the window in samples."""
    x = np.asarray(samples, dtype=np.float64)
    hop, window = max(1, rate // 1000), max(1, rate * WINDOW_MS // 1000)
    if len(x) < window:
        return np.zeros(0), hop, window
    energy = np.concatenate([[0.0], np.cumsum(x * x)])
    starts = np.arange(0, len(x) - window + 1, hop)
    return np.sqrt((energy[starts + window] - energy[starts]) / window), hop, window


def speech_onset(samples: np.ndarray, rate: int, near: int, levels=None) -> int:
    """Where speech starts in the audio around sample `near`: the quietest moment within
    SEARCH_MS of it (the pause before a word), then the first moment after that louder than
    ONSET_DB below the audio's loud level (the quietest moment itself where nothing there
    is quieter than that)."""
    level, hop, window = levels or _levels(samples, rate)
    if not len(level):
        return near
    threshold = np.percentile(level, 95) * 10 ** (-ONSET_DB / 20)
    centre = near // hop
    low = max(0, centre - SEARCH_MS)
    high = min(len(level), centre + SEARCH_MS + 1)
    valley = low + int(np.argmin(level[low:high]))
    louder = np.nonzero(level[valley:] > threshold)[0]
    frame = valley + int(louder[0]) if len(louder) else valley
    return frame * hop + window // 2


def after_pause(text: str) -> list[int]:
    """Indexes (in word_ranges order) of the words that start the text or follow a comma."""
    ranges = word_ranges(text)
    return [i for i, _ in enumerate(ranges) if i == 0 or text[ranges[i - 1][1] - 1] == ","]


def onset_errors(text: str, marks: Marks, samples: np.ndarray, rate: int) -> dict:
    """Each word after a pause: its reported start against the onset heard there (ms)."""
    ranges = word_ranges(text)
    starts = {(w.char_start, w.char_end): w.start for w in marks.words}
    reported = [starts[ranges[i]] for i in after_pause(text) if ranges[i] in starts]
    levels = _levels(samples, rate)
    pairs = [(r, speech_onset(samples, rate, r, levels)) for r in reported]
    signed = np.array([(r - o) * 1000 / rate for r, o in pairs])
    error = np.abs(signed)
    return {
        "words": len(marks.words),
        "text_words": len(ranges),
        "words_counted": len(pairs),
        "median_ms": round(float(np.median(error)), 1) if len(error) else None,
        "p95_ms": round(float(np.percentile(error, 95)), 1) if len(error) else None,
        "max_ms": round(float(error.max()), 1) if len(error) else None,
        "mean_signed_ms": round(float(signed.mean()), 1) if len(error) else None,
    }


def _meets(r: dict) -> bool:
    return r["median_ms"] is not None and r["median_ms"] <= MEDIAN_MS and r["p95_ms"] <= P95_MS


def _piper(text: str, derived: Path) -> dict:
    from settings.local_models import LocalEngine
    from settings.providers import ProviderConfig
    from workers.providers.base import SynthesisRequest
    from workers.providers.piper import PiperProvider

    def provider() -> PiperProvider:
        engine = LocalEngine(device="cpu", derived_dir=derived)
        return PiperProvider("piper", ProviderConfig(type="piper", engine=engine))

    first = provider()
    began = time.perf_counter()
    first.loaded.get(first.default_voice)  # derives the copy with alignments, then loads it
    derive_and_load = time.perf_counter() - began
    again = provider()
    began = time.perf_counter()
    again.loaded.get(again.default_voice)
    load = time.perf_counter() - began
    out = {"first_load_with_derive_s": round(derive_and_load, 2), "load_s": round(load, 2)}
    for speed in (1.0, 1.4):
        began = time.perf_counter()
        audio = again.synthesize(
            SynthesisRequest(text=text, voice=again.default_voice, speed=speed)
        )
        spent = time.perf_counter() - began
        samples = np.frombuffer(audio.data, dtype="<i2")
        measured = onset_errors(text, audio.marks, samples, audio.sample_rate)
        measured |= {"speed": speed, "synthesis_s": round(spent, 2), "source": audio.marks.source}
        out["measured" if speed == 1.0 else "measured_faster"] = measured
    return out


def _kokoro(text: str, directory: Path) -> dict:
    from simulator import kokoro_repo
    from workers.providers.kokoro_engine import KokoroModel
    from workers.providers.kokoro_voices import load_style

    repo = kokoro_repo.build(directory / "kokoro")
    model = KokoroModel(repo, kokoro_repo.VARIANT_FILE, derived_dir=directory / "models")
    style = load_style(repo / "voices" / "jf_alpha.bin")
    began = time.perf_counter()
    speech = model.speak(text, style, "en-us")
    spent = time.perf_counter() - began
    measured = onset_errors(text, speech.marks, speech.samples, speech.sample_rate)
    measured |= {"synthesis_s": round(spent, 2), "methods": speech.word_methods}
    return {"measured": measured}


def run() -> dict:
    with tempfile.TemporaryDirectory(prefix="words-bench-") as scratch:
        directory = Path(scratch)
        piper = _piper(TEXT, directory / "models")
        kokoro = _kokoro(TEXT, directory)
    results = {"text": TEXT, "target": {"median_ms": MEDIAN_MS, "p95_ms": P95_MS}}
    results["piper"], results["kokoro"] = piper, kokoro
    for engine in (piper, kokoro):
        for key in ("measured", "measured_faster"):
            if key in engine:
                engine[key]["met"] = _meets(engine[key])
    return results


def summary(r: dict) -> list[str]:
    mark = {True: "meets", False: "MISSES"}
    lines = []
    for name in ("piper", "kokoro"):
        for key, label in (("measured", ""), ("measured_faster", " at speed 1.4")):
            m = r[name].get(key)
            if m is None:
                continue
            lines.append(
                f"{name.title()}{label} word onsets: median {m['median_ms']} ms, p95 "
                f"{m['p95_ms']} ms over {m['words_counted']} words after a pause "
                f"({mark[m['met']]} <= {MEDIAN_MS:g} ms / {P95_MS:g} ms); {m['words']} of "
                f"{m['text_words']} words timed"
            )
    p = r["piper"]
    lines.append(
        f"Piper with alignments: first load {p['first_load_with_derive_s']} s (deriving the "
        f"copy once per machine), later loads {p['load_s']} s"
    )
    return lines


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
