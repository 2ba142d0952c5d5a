"""A local stand-in for the cloud APIs the service calls: ElevenLabs (text-to-speech, voices),
OpenAI (/v1/audio/speech), Volcano Engine (/api/v1/tts) and Cloudinary (upload, delivery).

The real SDKs (and the Volcano Engine provider's own HTTP calls) reach it over HTTP through
their base-URL settings. It answers with real audio, and has knobs for latency, an account's
in-flight limit (429 above it) and injected faults, and counts what it saw (peak and average
requests in flight). Tests and the benchmark share it.
"""

from simulator.server import SimulatorServer

__all__ = ["SimulatorServer"]
