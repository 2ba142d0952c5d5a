"""OpenAI, or any server speaking its /v1/audio/speech API, through the official SDK.

Audio is asked for as raw PCM (24 kHz, 16-bit mono): nothing to decode; for an MP3 job at
24 kHz as MP3, which the block stores as it came where its bitrate is the job's
(utils/audio/passthrough.py). The API has no bitrate to ask for, so the account's is learnt
from its first MP3: jobs at another bitrate ask for PCM from then on. An OpenAI-compatible
server is one more PROVIDERS entry of type "openai" with its own base_url (and `voices`).
"""

from __future__ import annotations

import openai

from utils.audio.formats import OutputFormat
from utils.audio.mp3_frames import iter_frames
from utils.audio.pcm import ProviderAudio
from workers.providers.base import SynthesisRequest, TTSProvider, Voice
from workers.providers.openai_names import OPENAI_VOICES, PCM_RATE
from workers.providers.upstream import message_from_body, upstream_error

DEFAULT_MODEL = "gpt-4o-mini-tts"


class OpenAIProvider(TTSProvider):
    takes_model = True
    takes_instructions = True

    def __init__(self, name, config):
        super().__init__(name, config)
        self._secret = config.api_key.get_secret_value() if config.api_key else None
        # Retries are ours (with the account's limit and Retry-After), not the SDK's.
        self.client = openai.OpenAI(
            api_key=self._secret or "not-needed",
            base_url=config.base_url,
            timeout=config.timeout_s,
            max_retries=0,
            http_client=self.upstream.http_client(config.timeout_s),
        )
        self._mp3_kbps: int | None = None  # the bitrate of the account's MP3, once seen

    @property
    def default_voice(self) -> str:
        return self.config.default_voice or self.voice_ids()[0]

    @property
    def model(self) -> str:
        return self.config.model or DEFAULT_MODEL

    def voices(self) -> list[Voice]:
        return [Voice(id=v, name=v.title()) for v in (self.config.voices or OPENAI_VOICES)]

    def synthesize(self, request: SynthesisRequest) -> ProviderAudio:
        try:
            extra = {"instructions": request.instructions} if request.instructions else {}
            response = self.client.audio.speech.create(
                model=request.model or self.model,
                voice=request.voice,
                input=request.text,
                response_format=(encoding := self._encoding_for(request.output_format)),
                speed=request.speed,
                **extra,
            )
            if encoding == "mp3":
                first = next(iter_frames(response.content), None)
                self._mp3_kbps = first[1].bitrate_kbps if first else self._mp3_kbps
                return ProviderAudio(response.content, "mp3", PCM_RATE)
            return ProviderAudio(response.content, "pcm_s16le", PCM_RATE)
        except openai.APIStatusError as exc:
            message = message_from_body(_json_or_none(exc.response)) or exc.message
            raise self.upstream.screened(
                upstream_error(
                    self.name, exc.status_code, message, self._secret, exc.response.headers
                )
            ) from None
        except openai.APITimeoutError:
            raise upstream_error(self.name, None, "request timed out", self._secret) from None
        except openai.APIConnectionError as exc:
            raise self.upstream.refused(self.name, exc) or upstream_error(
                self.name, None, "connection failed", self._secret
            ) from None

    def _encoding_for(self, output_format: str | None) -> str:
        """MP3 where the job's MP3 may be what the account sends, else raw PCM."""
        if output_format is None:
            return "pcm"
        fmt = OutputFormat.parse(output_format)
        mp3_at_our_rate = fmt.is_mp3 and fmt.sample_rate == PCM_RATE
        return "mp3" if mp3_at_our_rate and self._mp3_kbps in (None, fmt.bitrate_kbps) else "pcm"


def _json_or_none(response):
    try:
        return response.json()
    except ValueError:
        return None
