"""SSML compile time: a 100 KB document of a lesson's markup, and the refusals that must be fast
(an entity bomb, a 2 MB document of tags)."""

from __future__ import annotations

import time

from utils.text.say_as import say_as
from utils.text.ssml import SSMLError, compile_ssml

# every paragraph's numbers differ (i), as a course's would: nothing is compiled twice
PARAGRAPH = (
    "<p><s>Lesson <say-as interpret-as='cardinal'>{i}</say-as> begins on "
    "<say-as interpret-as='date' format='mdy'>{month}/{day}/2026</say-as>.</s>"
    "<break time='600ms'/><s><prosody rate='90%'>Read the passage slowly,</prosody> "
    "then <emphasis>answer</emphasis> the questions.</s><break strength='strong'/></p>"
)
BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{"&lol;" * 10 if i == 1 else f"&lol{i - 1};" * 10}">'
        for i in range(1, 10)
    )
    + "]><speak>&lol9;</speak>"
)


def _best_of(runs: int, work) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _cold(document: str) -> None:
    say_as.cache_clear()  # as a new document would: no number said before
    compile_ssml(document)


def _refused(document: str) -> None:
    try:
        compile_ssml(document)
    except SSMLError:
        return
    raise AssertionError("the document was accepted")


def run() -> dict:
    body, i = "", 0
    while len(body) < 100_000:
        i += 1
        body += PARAGRAPH.format(i=i, month=i % 12 + 1, day=i % 28 + 1)
    document = f"<speak xml:lang='en-US'>{body}</speak>"
    segments, _ = compile_ssml(document)
    huge = "<speak>" + "a <break time='1ms'/>" * (2_000_000 // 22) + "</speak>"
    return {
        "document_kb": round(len(document) / 1000),
        "segments": len(segments),
        "compile_ms": round(_best_of(5, lambda: _cold(document)) * 1000, 1),
        "entity_bomb_refused_ms": round(_best_of(5, lambda: _refused(BOMB)) * 1000, 2),
        "tags_2mb_refused_ms": round(_best_of(3, lambda: _refused(huge)) * 1000, 1),
    }


def summary(r: dict) -> str:
    return (
        f"SSML: a {r['document_kb']} KB document ({r['segments']} segments) compiled in "
        f"{r['compile_ms']} ms; an entity bomb refused in {r['entity_bomb_refused_ms']} ms, "
        f"2 MB of tags in {r['tags_2mb_refused_ms']} ms"
    )
