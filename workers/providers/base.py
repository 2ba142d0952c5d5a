"""The provider contract: a name, its voices, and text in, audio out.

Implementations translate their SDK's errors into utils.errors.ProviderRetryable (worth another
try: 429, 5xx, timeouts) or ProviderRejected (retrying cannot help), never leaking API keys.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from config import ProviderConfig
from utils.accounts.upstream_access import UpstreamAccess
from utils.audio.pcm import ProviderAudio


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    language: str | None = None
    description: str | None = None
    # Where a provider knows them (Piper's catalogue): the language's English name, the
    # voice's quality, its speakers' names, and whether it is on this machine already.
    language_name: str | None = None
    quality: str | None = None
    speakers: tuple[str, ...] | None = None
    installed: bool | None = None
    gender: str | None = None  # female, male: where the provider says (Kokoro's names)


@dataclass(frozen=True)
class ModelInfo:
    """A local engine's model, as GET /v1/models and /tts/providers list it."""

    id: str  # its Hugging Face repository (or where the engine gets it)
    revision: str | None = None
    variant: str | None = None  # the precision loaded: float32, float16, int8
    size_bytes: int | None = None  # what loading it fetches, where known
    installed: bool = False  # on this machine already (else fetched on first use)
    languages: tuple[str, ...] = ()
    voice_count: int = 0


@dataclass(frozen=True)
class SynthesisRequest:
    """One block to speak, with the neighbours' text for providers that can use context."""

    text: str
    voice: str
    speed: float = 1.0
    previous_text: str | None = None
    next_text: str | None = None
    model: str | None = None  # in place of the account's configured model (OpenAI-type)
    instructions: str | None = None  # how to speak, for models that take it
    speaker: str | None = None  # a speaker of a multi-speaker voice: its name or index
    # Made with nothing else of its job beside it (workers/lead_first.py): a local engine may
    # spread it over every core.
    alone: bool = False
    # The job's output format (utils/audio/formats.py): a provider that can answer in it does,
    # and the block is stored as it came (utils/audio/passthrough.py).
    output_format: str | None = None


class TTSProvider(ABC):
    # True where the provider can use neighbouring text for prosody (previous_text/next_text).
    uses_context = False
    # True where a block may name a model in place of the configured one (BlockSpec.model),
    # and where the provider can take style instructions (BlockSpec.instructions).
    takes_model = False
    takes_instructions = False
    # True where text may carry phonemes inline as `[[ ... ]]` (IPA in the voice's own
    # symbols: phoneme_symbols), as pronunciation lexicons and SSML <phoneme> give them.
    takes_phonemes = False

    def __init__(self, name: str, config: ProviderConfig):
        self.name = name
        self.config = config
        # a user's own account reaches its server only as the operator allows
        self.upstream = UpstreamAccess.of(name, config)

    @abstractmethod
    def voices(self) -> list[Voice]: ...

    @property
    @abstractmethod
    def default_voice(self) -> str: ...

    @property
    def model(self) -> str | None:
        return self.config.model

    @abstractmethod
    def synthesize(self, request: SynthesisRequest) -> ProviderAudio: ...

    def audio_identity(self) -> list[str]:
        """Everything of this provider's configuration that changes the audio it makes: part
        of the audio cache's key, so a hit is what the same request would have produced."""
        config = self.config
        return [self.name, config.type, config.base_url or "", self.model or ""]

    def loads_at_start(self) -> bool:
        """Whether a local worker process warms this provider up as it starts although it is
        not the default one: where its model is on the machine (no download at start)."""
        return False

    def warm_up(self) -> None:  # noqa: B027 - optional hook: most providers have nothing to load
        """Load what the first block would otherwise wait for (called as a worker starts)."""

    def voice_ids(self) -> list[str]:
        return [voice.id for voice in self.voices()]

    def model_info(self) -> ModelInfo | None:
        """The model a local engine runs, for listings; None for a remote provider."""
        return None

    def voice_list_note(self) -> str | None:
        """Why voice_ids() may be missing voices just now (said with an unknown voice)."""
        return None

    def speakers_of(self, voice: str) -> dict[str, int]:
        """The speakers of a multi-speaker voice, name -> index; empty: a single speaker."""
        return {}

    def phoneme_symbols(self, voice: str) -> frozenset[str] | None:
        """The phoneme symbols `voice` can say (inline `[[ ... ]]`), where known without
        fetching anything; None: not known now."""
        return None

    def language_of(self, voice: str) -> str | None:
        """The voice's language code (en_US), where known without asking the network."""
        return None
