"""The voices a Wyoming client may choose: `describe`'s answer, and a request's voice resolved
to a provider and one of its voices.

Voices are named as the speech endpoint takes them: a voice of the default provider by its id
(`joe`), any other as `provider/voice` (`openai/nova`); a user's own account (WYOMING_USER's)
as `account/voice`. Listing a cloud provider's voices may wait on its API, so the list is made
in threads, each provider within LIST_TIMEOUT_S (one that fails or is slow is left out and
logged), and reused for WYOMING_INFO_TTL_S.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from wyoming.info import Attribution, Info, TtsProgram, TtsVoice, TtsVoiceSpeaker
from wyoming.tts import SynthesizeVoice

from config import Settings
from utils.accounts.user_accounts import display_name
from utils.errors import ConfigurationError, ProviderError
from workers.providers import ProviderRegistry, Voice

log = logging.getLogger("wyoming")

LIST_TIMEOUT_S = 10.0
SERVICE = Attribution(name="TTS job service", url="https://github.com/rhasspy/wyoming")
PIPER = Attribution(name="rhasspy", url="https://github.com/rhasspy/piper")


class UnknownVoice(Exception):
    """A request names a voice (or speaker) no provider here has; the message says which."""


@dataclass(frozen=True)
class Target:
    """What a request's text is spoken with."""

    provider: str  # as the registry knows it
    voice: str
    speaker: str | None = None
    language: str = "en"  # ISO 639-1, for where sentences end (utils/text/sentences.py)


@dataclass(frozen=True)
class Listed:
    name: str  # as a client names it
    provider: str
    voice: Voice
    languages: tuple[str, ...]


def _listed_name(provider: str, voice_id: str, settings: Settings) -> str:
    if provider == settings.DEFAULT_PROVIDER:
        return voice_id
    return f"{display_name(provider)}/{voice_id}"


def _provider_voices(name: str, user: str, settings: Settings, providers: ProviderRegistry):
    provider = providers.get(name)
    listed = []
    for voice in provider.voices():
        language = voice.language or provider.language_of(voice.id)
        languages = (language,) if language else tuple(settings.wyoming.unknown_languages)
        listed.append(Listed(_listed_name(name, voice.id, settings), name, voice, languages))
    return listed


class VoiceBook:
    """The voices of every provider WYOMING_USER may use, listed at most once per
    WYOMING_INFO_TTL_S however many clients ask."""

    def __init__(self, settings: Settings, providers: ProviderRegistry):
        self.settings, self.providers = settings, providers
        self.user = settings.wyoming.user
        self._listed: list[Listed] = []
        self._at = -float("inf")
        self._lock = asyncio.Lock()

    async def voices(self) -> list[Listed]:
        async with self._lock:
            if time.monotonic() - self._at >= self.settings.wyoming.info_ttl_s:
                self._listed = await self._list_all()
                self._at = time.monotonic()
            return self._listed

    async def _list_all(self) -> list[Listed]:
        names = await asyncio.to_thread(self.providers.names_for, self.user)
        names = [self.providers.resolve(self.user, n) or n for n in names]
        default = self.settings.DEFAULT_PROVIDER
        names.sort(key=lambda n: n != default)  # the default provider's voices first
        found = await asyncio.gather(*(self._list_one(n) for n in names))
        return [voice for voices in found for voice in voices]

    async def _list_one(self, name: str) -> list[Listed]:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(_provider_voices, name, self.user, self.settings, self.providers),
                LIST_TIMEOUT_S,
            )
        except TimeoutError:
            log.warning("wyoming: provider %s listed no voices within %s s", name, LIST_TIMEOUT_S)
        except (ProviderError, ConfigurationError) as exc:
            log.warning("wyoming: provider %s cannot list its voices: %s", name, exc)
        return []

    async def info(self) -> Info:
        voices = [
            TtsVoice(
                name=item.name,
                attribution=PIPER if item.provider == "piper" else SERVICE,
                installed=True,  # a Piper voice not on disk yet is fetched on first use
                description=f"{item.voice.name} ({display_name(item.provider)})",
                version=None,
                languages=list(item.languages),
                speakers=[TtsVoiceSpeaker(name=s) for s in item.voice.speakers]
                if item.voice.speakers
                else None,
            )
            for item in await self.voices()
        ]
        program = TtsProgram(
            name="tts-job-service",
            attribution=SERVICE,
            installed=True,
            description="Piper, ElevenLabs, OpenAI and Volcengine voices through one service",
            version="1.0.0",
            voices=voices,
            supports_synthesize_streaming=True,
        )
        return Info(tts=[program])

    async def target(self, voice: SynthesizeVoice | None) -> Target:
        """The provider and voice a request's `voice` names; UnknownVoice if none has it."""
        if voice is not None and voice.name:
            return await asyncio.to_thread(self._named, voice.name, voice.speaker)
        if voice is not None and voice.language:
            wanted = voice.language.replace("-", "_").lower()
            voices = await self.voices()
            for matches in (
                lambda lang: lang.lower() == wanted,
                lambda lang: lang.lower().split("_")[0] == wanted.split("_")[0],
            ):
                for item in voices:
                    if any(matches(lang) for lang in item.languages):
                        language = item.languages[0].split("_")[0].lower()
                        return Target(item.provider, item.voice.id, language=language)
        return await asyncio.to_thread(self._default)

    def _default(self) -> Target:
        if self.settings.wyoming.voice:
            return self._named(self.settings.wyoming.voice, None)
        provider = self.settings.DEFAULT_PROVIDER
        return self._named(self.providers.get(provider).default_voice, None)

    def _named(self, name: str, speaker: str | None) -> Target:
        provider, voice = self.settings.DEFAULT_PROVIDER, name
        head, sep, rest = name.partition("/")
        if sep and (resolved := self.providers.resolve(self.user, head)) is not None:
            provider, voice = resolved, rest
        tts = self.providers.get(provider)
        try:
            known = tts.voice_ids()
        except (ProviderError, ConfigurationError):
            known = []  # cannot list them now: the provider judges the voice when it runs
        if known and voice not in known:
            raise UnknownVoice(
                f"unknown voice {name!r}: `describe` lists the voices; a voice of the default "
                f"provider ({self.settings.DEFAULT_PROVIDER}) by its name, any other as "
                "provider/voice"
            )
        language = (tts.language_of(voice) or "en").split("_")[0].lower()
        speakers = tts.speakers_of(voice) if speaker else {}
        if not (speaker and speakers):
            return Target(provider, voice, language=language)  # one voice, one speaker
        if speaker not in speakers and not (speaker.isdigit() and int(speaker) < len(speakers)):
            allowed = ", ".join(list(speakers)[:20])
            raise UnknownVoice(
                f"voice {name!r} has no speaker {speaker!r}; its speakers: {allowed}"
            )
        return Target(provider, voice, speaker, language)
