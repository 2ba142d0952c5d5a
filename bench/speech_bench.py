"""The OpenAI-compatible endpoint on long input: the official SDK, streaming, against the
process layout `make run` starts, beside piper in one call in one process (what a
single-process server does with the same text, and the reference such a server cannot beat).
"""

from __future__ import annotations

import time

import openai

from bench.stack import Stack
from config import ProviderConfig
from utils.text.sentences import sentences
from workers.providers import SynthesisRequest
from workers.providers.piper import PiperProvider

PASSAGE = (
    "The lighthouse keeper climbed the spiral stairs each evening at dusk. He carried a lamp, "
    "a flask of tea and a small notebook in which he wrote the weather. For forty years the "
    "routine had not changed, although the world beyond the headland had changed beyond "
    "recognition. Ships that once passed under sail now slid by with engines humming, and "
    "their crews rarely looked up at the tower. Still, he believed the light mattered. On "
    "stormy nights he would stand by the great lens and watch the beam sweep across the black "
    "water, counting the seconds between each flash. Sometimes a fishing boat would answer "
    "with a blink of its own, and he would smile and note it in his book. "
)


def long_text(chars: int = 3000) -> str:
    """About `chars` characters of English prose, cut at a sentence."""
    text = ""
    for round_no in range(1, 100):
        for sentence in sentences(PASSAGE):
            if len(text) + len(sentence) + 1 > chars:
                return text.strip()
            text += f"{sentence} "
        text += f"That was night {round_no}. "
    return text


def _piper_alone(text: str, first: str) -> dict:
    """Piper in this one process: the whole text in one call, and its first sentence alone.
    Both thread settings are timed (one ONNX thread, as the workers run it; onnxruntime's
    default, every core) and the faster one is the reference."""
    timings = {}
    for threads in (1, 0):
        provider = PiperProvider("piper", ProviderConfig(type="piper", threads=threads))
        provider.warm_up()
        voice = provider.default_voice
        provider.synthesize(SynthesisRequest(text="Warming up.", voice=voice))
        started = time.perf_counter()
        audio = provider.synthesize(SynthesisRequest(text=text, voice=voice))
        whole = time.perf_counter() - started
        started = time.perf_counter()
        provider.synthesize(SynthesisRequest(text=first, voice=voice))
        timings[threads] = (whole, time.perf_counter() - started, audio)
    whole, first_s, audio = min(timings.values(), key=lambda timing: timing[0])
    return {
        "one_call_s": round(whole, 2),
        "first_sentence_s": round(first_s, 3),
        "one_thread_s": round(timings[1][0], 2),
        "default_threads_s": round(timings[0][0], 2),
        # as the service's local pool runs Piper: one ONNX thread per process
        "first_sentence_one_thread_s": round(timings[1][1], 3),
        "audio_s": round(len(audio.data) / 2 / audio.sample_rate, 1),
    }


def _streamed(client: openai.OpenAI, text: str, response_format: str) -> tuple[float, float, int]:
    started = time.perf_counter()
    first_byte, size = None, 0
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=text, response_format=response_format
    ) as response:
        for chunk in response.iter_bytes():
            if first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(chunk)
    return first_byte, time.perf_counter() - started, size


def run(chars: int = 3000) -> dict:
    text = long_text(chars)
    first = sentences(text)[0]
    reference = _piper_alone(text, first)
    results: dict = {"input_chars": len(text), "piper_one_process": reference}
    with Stack(cache=False) as stack:
        stack.start_pools()
        stack.start_api()
        client = openai.OpenAI(api_key=stack.token, base_url=f"{stack.api_url}/v1", max_retries=0)
        _streamed(client, "Warming up the pools.", "mp3")
        for response_format in ("mp3", "pcm", "opus"):  # the cache is off: all made anew
            first_byte, total, size = _streamed(client, text, response_format)
            results[response_format] = {
                "first_byte_s": round(first_byte, 3),
                "total_s": round(total, 2),
                "vs_piper_one_call": round(total / reference["one_call_s"], 2),
                "vs_piper_one_thread": round(total / reference["one_thread_s"], 2),
                "bytes": size,
            }
    results["first_byte_target_s"] = round(reference["first_sentence_s"] + 0.150, 3)
    results["first_byte_target_one_thread_s"] = round(
        reference["first_sentence_one_thread_s"] + 0.150, 3
    )
    return results
