"""Kokoro-82M: a neural voice of 82M parameters, clearly more natural than Piper, from the
Hugging Face Hub (workers/providers/kokoro_repo.py), run with ONNX Runtime on the local pool.

A voice is one of the repository's voices/*.bin, or a blend of several by weight as
Kokoro-FastAPI writes it (`af_bella(2)+af_sky(1)`), accepted wherever a voice is named. The
model and each voice are fetched on first use and loaded once per process; synthesis itself
(phonemes, token limits, timings from the durations the model predicts) is the engine's
(workers/providers/kokoro_engine.py).
"""

from __future__ import annotations

import json
import logging
import re
import threading

import numpy as np

from utils.audio.pcm import ProviderAudio
from utils.cpus import usable_cpus
from utils.errors import ProviderRejected
from workers.providers.base import ModelInfo, SynthesisRequest, TTSProvider, Voice
from workers.providers.kokoro_repo import KokoroRepository
from workers.providers.kokoro_voices import VoiceInfo, load_style, mix, parse_blend, voice_info
from workers.providers.piper_loaded import LoadedVoices

log = logging.getLogger(__name__)

# Scripts a voice's own language needs; text with none of them is read as English (a
# Japanese voice reading an English sentence, as Kokoro's own pipeline does for Latin text).
_SCRIPTS = {
    "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]"),
    "cmn": re.compile(r"[\u4e00-\u9fff]"),
    "hi": re.compile(r"[\u0900-\u097f]"),
}


class BlendableVoices(list):
    """A provider's voice ids, where `x in voices` also holds for a blend of them: every
    place that checks a named voice against voice_ids() accepts blends without knowing them."""

    def __contains__(self, voice: object) -> bool:
        if list.__contains__(self, voice):
            return True
        try:
            parts = parse_blend(str(voice))
        except ValueError:
            return False
        return all(list.__contains__(self, name) for name, _ in parts)


class KokoroProvider(TTSProvider):
    def __init__(self, name, config):
        super().__init__(name, config)
        self.repository = KokoroRepository(name, config)
        self._styles: dict[str, np.ndarray] = {}
        self._styles_lock = threading.Lock()
        self._vocab: frozenset[str] | None = None
        # one session per process (about 0.3 s and 150 MB for int8), another on every core
        # for a piece made alone (its first byte waits on it), as Piper's
        self.loaded = LoadedVoices(1, lambda _: self._load_model(wide=False))
        self.loaded_wide = LoadedVoices(1, lambda _: self._load_model(wide=True))

    @property
    def default_voice(self) -> str:
        return self.config.default_voice or "af_heart"

    @property
    def model(self) -> str | None:
        return self.config.model

    # --- what there is -------------------------------------------------------------------

    def voices(self) -> list[Voice]:
        installed = self.repository.installed()
        out = []
        for voice_id in self.repository.voice_names():
            about = _about(voice_id)
            out.append(
                Voice(
                    id=voice_id,
                    name=voice_id.split("_", 1)[-1].title(),
                    language=about.language if about else None,
                    gender=about.gender if about else None,
                    installed=installed,
                )
            )
        return out

    def voice_ids(self) -> list[str]:
        return BlendableVoices(self.repository.voice_names())

    def voice_list_note(self) -> str | None:
        if self.repository.problem:
            return f"{self.repository.problem}; voices cannot be listed now"
        return None

    def model_info(self) -> ModelInfo:
        files = self.repository.files
        names = self.repository.voice_names()
        return ModelInfo(
            id=files.repo.repo_id,
            revision=files.repo.revision,
            variant=files.variant,
            size_bytes=self.repository.sizes().get(files.variant_file),
            installed=self.repository.installed(),
            languages=tuple(sorted({a.language for name in names if (a := _about(name))})),
            voice_count=len(names),
        )

    takes_phonemes = True  # the engine reads `[[ ... ]]` in its text as phonemes

    def phoneme_symbols(self, voice: str) -> frozenset[str] | None:
        """The model's vocabulary, where it is on this machine (never a download)."""
        if self._vocab is None and self.repository.installed():
            path = self.repository.model_dir() / "tokenizer.json"
            self._vocab = frozenset(json.loads(path.read_text("utf-8"))["model"]["vocab"])
        return self._vocab

    def language_of(self, voice: str) -> str | None:
        try:
            about = _about(parse_blend(voice)[0][0])
        except ValueError:
            return None
        return about.language if about else None

    def audio_identity(self) -> list[str]:
        files = self.repository.files
        return [*super().audio_identity(), files.repo.revision, files.variant]

    # --- speaking ------------------------------------------------------------------------

    def loads_at_start(self) -> bool:
        # the cache alone is read: a worker never waits on the Hub to start
        return self.repository.installed()

    def warm_up(self) -> None:
        self.loaded.get("model")
        if self._spreads_alone:
            self.loaded_wide.get("model")

    @property
    def _spreads_alone(self) -> bool:
        return self.config.threads == 1 and usable_cpus() > 1

    @property
    def device(self) -> str | None:
        """What this process's model runs on, once loaded (cuda or cpu)."""
        loaded = self.loaded.keys()
        return self.loaded.get(loaded[0]).device if loaded else None

    def _load_model(self, wide: bool):
        from workers.providers.kokoro_engine import KokoroModel

        engine = self.repository.engine
        model = KokoroModel(
            self.repository.model_dir(),
            self.repository.files.variant_file,
            device=engine.device,
            threads=usable_cpus() if wide else self.config.threads,
            derived_dir=engine.derived_dir,
            wide=wide,
        )
        log.info("%s: %s on %s", self.name, self.repository.repo, ", ".join(model.providers))
        return model

    def _style(self, voice: str) -> np.ndarray:
        with self._styles_lock:
            if voice in self._styles:
                return self._styles[voice]
        style = load_style(self.repository.voice_path(voice))
        with self._styles_lock:
            self._styles[voice] = style
        return style

    def _blend(self, voice: str) -> tuple[np.ndarray, str]:
        try:
            parts = parse_blend(voice)
        except ValueError as exc:
            raise ProviderRejected(self.name, str(exc)) from None
        known = self.repository.voice_names()
        if known and (missing := [name for name, _ in parts if name not in known]):
            raise ProviderRejected(self.name, f"unknown voice {missing[0]!r}")
        styles = [self._style(name) for name, _ in parts]
        return mix(styles, [weight for _, weight in parts]), parts[0][0]

    def synthesize(self, request: SynthesisRequest) -> ProviderAudio:
        style, first = self._blend(request.voice)
        about = _about(first)
        language = about.espeak if about else "en-us"
        own_script = _SCRIPTS.get(language)
        if own_script is not None and not own_script.search(request.text):
            language = "en-us"
        wide = request.alone and self._spreads_alone
        model = (self.loaded_wide if wide else self.loaded).get("model")
        speech = model.speak(request.text, style, language, request.speed)
        return ProviderAudio(
            speech.samples.astype("<i2").tobytes(),
            "pcm_s16le",
            speech.sample_rate,
            marks=speech.marks,
        )


def _about(voice: str) -> VoiceInfo | None:
    """What a voice's name says (language, gender); None for a name outside Kokoro's pattern."""
    try:
        return voice_info(voice)
    except ValueError:
        return None
