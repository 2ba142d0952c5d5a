"""Catalogue voices: what the first block in a voice not yet on the machine costs (fetch from a
local mirror, verify size and MD5, load, first synthesis) beside a block in a voice already
loaded, and the resident memory each loaded voice holds.

Measured in a fresh process (the memory figures would otherwise carry whatever ran before);
the mirror is simulator/piper_voices.py on loopback, so the fetch figure is the disk, the MD5
and the move into place, not a network: add the model's 63 MB at your link's speed.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from config import PROJECT_ROOT, ProviderConfig, VoiceCatalogueSettings
from simulator.piper_voices import MirrorVoice, VoiceMirror
from workers.providers.base import SynthesisRequest
from workers.providers.piper import PiperProvider
from workers.providers.piper_fetch import fetch_voice

SENTENCE = "The lighthouse keeper climbed the spiral stairs each evening at dusk."
VOICES = tuple(MirrorVoice(f"en_US-bench_{n}-medium") for n in "abcd")
WARM_RUNS = 5


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


def measure() -> dict:
    """In this process: the figures of run()."""
    with tempfile.TemporaryDirectory(prefix="voices-bench-") as folder:
        root = Path(folder)
        with VoiceMirror(root / "mirror", VOICES) as mirror:
            settings = VoiceCatalogueSettings(
                url=mirror.url, directory=root / "voices", max_loaded=len(VOICES) + 1
            )
            provider = PiperProvider("piper", ProviderConfig(type="piper", catalogue=settings))
            first, *others = [voice.key for voice in VOICES]

            started = time.perf_counter()
            entry = provider.catalogue.voices()[first]
            catalogue_s = time.perf_counter() - started
            fetched = fetch_voice(provider.catalogue, entry)
            fetch_s = time.perf_counter() - started - catalogue_s
            rss_before = _rss_mb()
            provider.loaded.get(first)
            load_s = time.perf_counter() - started - catalogue_s - fetch_s
            rss_one = _rss_mb()
            audio = provider.synthesize(SynthesisRequest(text=SENTENCE, voice=first))
            first_use_s = time.perf_counter() - started
            synth_s = first_use_s - catalogue_s - fetch_s - load_s

            warm = []
            for _ in range(WARM_RUNS):
                started = time.perf_counter()
                provider.synthesize(SynthesisRequest(text=SENTENCE, voice=first))
                warm.append(time.perf_counter() - started)
            warm_s = statistics.median(warm)

            for key in others:  # fetched, then loaded one after another
                fetch_voice(provider.catalogue, provider.catalogue.voices()[key])
                provider.loaded.get(key)
            rss_all = _rss_mb()
    audio_s = len(audio.data) / 2 / audio.sample_rate
    return {
        "model_mb": round(fetched.downloaded_bytes / 1e6, 1),
        "audio_s": round(audio_s, 2),
        "first_use_s": round(first_use_s, 2),
        "first_use_catalogue_s": round(catalogue_s, 3),
        "first_use_fetch_verify_s": round(fetch_s, 2),
        "first_use_load_s": round(load_s, 2),
        "first_use_synthesis_s": round(synth_s, 2),
        "warm_use_s": round(warm_s, 3),
        "first_vs_warm": round(first_use_s / warm_s, 1),
        "rss_before_mb": round(rss_before, 1),
        "rss_per_voice_first_mb": round(rss_one - rss_before, 1),
        "rss_per_voice_mb": round((rss_all - rss_before) / len(VOICES), 1),
        "voices_loaded": len(VOICES),
    }


def run() -> dict:
    """The measurements, in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.voices_bench"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(r: dict) -> str:
    return (
        f"catalogue voice: first use {r['first_use_s']} s (fetch+verify "
        f"{r['first_use_fetch_verify_s']} s of {r['model_mb']} MB, load {r['first_use_load_s']} s, "
        f"synthesis {r['first_use_synthesis_s']} s) vs warm {r['warm_use_s']} s "
        f"({r['first_vs_warm']}x); {r['rss_per_voice_mb']} MB RSS per loaded voice"
    )


if __name__ == "__main__":
    print(json.dumps(measure()))
