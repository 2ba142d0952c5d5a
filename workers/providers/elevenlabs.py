"""ElevenLabs through its official SDK.

Audio is asked for in the job's own format where ElevenLabs offers it on every plan (MP3 up to
128 kbps, PCM up to 24 kHz), so the block stores it as it came (utils/audio/passthrough.py);
otherwise as raw PCM (`pcm_24000`): nothing to decode, and the job's encoder is the only lossy
step. An account's `output_format`, where set, is asked for always.

It comes from the with-timestamps endpoint (`convert_with_timestamps`: base64 audio and a start
and end time for every character), which gives each sentence and word its place in the audio
(utils/audio/marks.py). Neighbouring blocks in the same voice are passed as previous_text /
next_text so prosody flows across blocks synthesized in parallel.
"""

from __future__ import annotations

import base64
import re

import httpx
from elevenlabs.client import ElevenLabs
from elevenlabs.core.api_error import ApiError

from utils.audio.marks import marks_from_alignment
from utils.audio.pcm import ProviderAudio
from workers.providers.base import SynthesisRequest, TTSProvider, Voice
from workers.providers.listing import RememberedListing
from workers.providers.upstream import message_from_body, upstream_error

DEFAULT_MODEL = "eleven_multilingual_v2"
DEFAULT_FORMAT = "pcm_24000"
# The job's formats ElevenLabs answers in on every plan (192 kbps MP3 and PCM above 24 kHz
# need a paid tier): asked for as they are.
JOB_FORMATS = frozenset(
    {"mp3_22050_32", "mp3_44100_64", "mp3_44100_96", "mp3_44100_128"}
    | {f"pcm_{rate}" for rate in (8000, 16000, 22050, 24000)}
)
DEFAULT_VOICE = "21m00Tcm4TlvDq8ikWAM"  # "Rachel", a premade voice every account has
_FORMAT_RE = re.compile(r"^(mp3|pcm|wav)_(\d+)(?:_\d+)?$")


class ElevenLabsProvider(TTSProvider):
    uses_context = True
    takes_model = True

    def __init__(self, name, config):
        super().__init__(name, config)
        self._secret = config.api_key.get_secret_value() if config.api_key else None
        self.client = ElevenLabs(
            api_key=self._secret,
            base_url=config.base_url or "https://api.elevenlabs.io",
            timeout=config.timeout_s,
            httpx_client=self.upstream.http_client(config.timeout_s),
        )
        self.configured_format = config.output_format
        self.output_format = config.output_format or DEFAULT_FORMAT
        if not _FORMAT_RE.match(self.output_format):
            raise ValueError(f"{name}: output_format must be mp3_*, pcm_* or wav_*")
        self._voices = RememberedListing(name, self._list_voices, config.voices_cache_ttl_s)

    @property
    def default_voice(self) -> str:
        return self.config.default_voice or DEFAULT_VOICE

    @property
    def model(self) -> str:
        return self.config.model or DEFAULT_MODEL

    def voices(self) -> list[Voice]:
        """The account's voices, kept for voices_cache_ttl_s (see providers/listing.py)."""
        return self._voices.get()

    def _list_voices(self) -> list[Voice]:
        options = {"max_retries": 0, "timeout_in_seconds": self.config.voices_timeout_s}
        response = self._call(lambda: self.client.voices.get_all(request_options=options))
        return [
            Voice(
                id=v.voice_id,
                name=v.name or v.voice_id,
                language=(v.labels or {}).get("language") or (v.labels or {}).get("accent"),
                description=v.description,
            )
            for v in response.voices
        ]

    def audio_identity(self) -> list[str]:
        return [*super().audio_identity(), self.output_format]

    def format_for(self, job_format: str | None) -> str:
        """What to ask for: the account's format where set, else the job's where offered."""
        if self.configured_format or job_format is None:
            return self.output_format
        if job_format in JOB_FORMATS:
            return job_format
        family, rate = job_format.split("_")[:2]
        pcm = f"pcm_{rate}"  # any other family at a rate ElevenLabs sends as PCM
        return pcm if family != "mp3" and pcm in JOB_FORMATS else self.output_format

    def synthesize(self, request: SynthesisRequest) -> ProviderAudio:
        output_format = self.format_for(request.output_format)

        def convert():
            return self.client.text_to_speech.convert_with_timestamps(
                request.voice,
                text=request.text,
                model_id=request.model or self.model,
                output_format=output_format,
                previous_text=request.previous_text,
                next_text=request.next_text,
                voice_settings={"speed": request.speed} if request.speed != 1.0 else None,
                request_options={"max_retries": 0},
            )

        response = self._call(convert)
        data = base64.b64decode(response.audio_base_64)
        kind, rate = _FORMAT_RE.match(output_format).group(1, 2)
        alignment = response.alignment
        marks = alignment and marks_from_alignment(
            request.text,
            alignment.characters,
            alignment.character_start_times_seconds,
            alignment.character_end_times_seconds,
            int(rate),
        )
        if kind == "pcm":
            return ProviderAudio(data, "pcm_s16le", int(rate), marks=marks)
        return ProviderAudio(data, kind, int(rate), marks=marks)

    def _call(self, fn):
        """Run an SDK call, translating its failures (never with the key in the message)."""
        try:
            return fn()
        except ApiError as exc:
            message = message_from_body(exc.body)
            raise self.upstream.screened(
                upstream_error(self.name, exc.status_code, message, self._secret, exc.headers)
            ) from None
        except httpx.TimeoutException:
            raise upstream_error(self.name, None, "request timed out", self._secret) from None
        except httpx.TransportError as exc:
            raise self.upstream.refused(self.name, exc) or upstream_error(
                self.name, None, f"connection failed ({type(exc).__name__})", self._secret
            ) from None
