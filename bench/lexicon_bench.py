"""Pronunciation lexicons: what a 1,000-rule lexicon adds to preparing a 100 KB document.

The document is prepared as the speech endpoint prepares its input (cut into pieces,
utils/text/sentences.py), once without a lexicon and once with the lexicon compiled and
applied to every piece for Piper (phonemes) — the target: at most 10 % more time. The
matcher is built once per set of lexicon versions and kept; its build is reported apart.
"""

from __future__ import annotations

import random
import time

from utils.lexicons.apply import Compiler, Target, matcher_for
from utils.lexicons.pls import Rule
from utils.lexicons.store import Stored
from utils.text.sentences import pieces

RULES = 1000
DOCUMENT_BYTES = 100_000
TARGET_OVERHEAD = 0.10
SYMBOLS = frozenset("abdefhijklmnopstuvwzæðŋɑɔəɛɪʃʊʌʒθˈˌː ")
WORDS = [
    "the",
    "keeper",
    "climbed",
    "stairs",
    "carried",
    "lamp",
    "small",
    "notebook",
    "light",
    "went",
    "on",
    "over",
    "sea",
]


def _lexicon(rng: random.Random) -> Stored:
    rules = []
    for i in range(RULES):
        grapheme = f"Name{i}" if i % 3 else f"ACR{i}"
        rules.append(
            Rule(grapheme, phoneme="nˈeɪm") if i % 2 else Rule(grapheme, alias=f"name {i}")
        )
    return Stored("bench", "en-US", tuple(rules), str(rng.random()), 0, 0.0, "bench")


def _document(rng: random.Random) -> str:
    out, size = [], 0
    while size < DOCUMENT_BYTES:
        words = rng.choices(WORDS, k=rng.randint(6, 14))
        if rng.random() < 0.5:
            words.insert(rng.randrange(len(words)), f"Name{rng.randrange(RULES)}")
        sentence = " ".join(words)
        sentence = sentence[0].upper() + sentence[1:] + ". "
        out.append(sentence)
        size += len(sentence)
    return "".join(out)


def _best(fn, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run() -> dict:
    rng = random.Random(7)
    lexicon, document = _lexicon(rng), _document(rng)
    target = Target("piper", "bench", True, SYMBOLS)

    start = time.perf_counter()
    cut = pieces(document, 400, 5000)  # the document prepared without a lexicon
    plain_s = time.perf_counter() - start

    def applied():
        compiler = Compiler([lexicon])  # once per request: what each rule becomes, per voice
        return [compiler.say(piece, target) for piece in cut]

    start = time.perf_counter()
    matcher_for([lexicon])  # the first request with these versions builds the matcher
    build_s = time.perf_counter() - start
    apply_s = _best(applied)
    lexicon_s = plain_s + apply_s
    replaced = sum(len(s.applied.spans) for s in applied() if s.applied)
    return {
        "rules": RULES,
        "document_bytes": len(document.encode()),
        "replacements": replaced,
        "matcher_build_ms": round(build_s * 1000, 2),
        "plain_ms": round(plain_s * 1000, 2),
        "apply_ms": round(apply_s * 1000, 2),
        "with_lexicon_ms": round(lexicon_s * 1000, 2),
        "overhead": round(lexicon_s / plain_s - 1, 4),
        "target_overhead": TARGET_OVERHEAD,
    }


def summary(r: dict) -> list[str]:
    verdict = "within" if r["overhead"] <= r["target_overhead"] else "OVER"
    return [
        f"lexicon of {r['rules']} rules on a {r['document_bytes'] // 1000} KB document "
        f"({r['replacements']} replacements): {r['with_lexicon_ms']} ms against "
        f"{r['plain_ms']} ms without, {r['overhead']:+.1%} ({verdict} the "
        f"{r['target_overhead']:.0%} target); matcher built once in {r['matcher_build_ms']} ms",
    ]


if __name__ == "__main__":
    print("\n".join(summary(run())))
