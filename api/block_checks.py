"""Checks on one block that need configuration: its limits, provider, voice and speaker.

Each check names the field and the values that would have been accepted (api/validation.py
places the problems at the block's index, or at the SSML part it came from).
"""

from __future__ import annotations

import difflib

from api.schemas.jobs import MAX_SPEED, MIN_SPEED, TAG_MAX_CHARS, BlockIn
from config import Settings
from utils.accounts.upstream_access import SubmitChecks
from utils.errors import ConfigurationError, ProviderError
from utils.jobs.models import BlockSpec
from utils.text.sentences import speakable
from workers.providers import ProviderRegistry

VOICES_SHOWN = 20
CLOSE_MATCHES = 3


def _allowed(values: list[str]) -> str:
    shown = ", ".join(values[:VOICES_SHOWN])
    return shown + (
        f" (and {len(values) - VOICES_SHOWN} more)" if len(values) > VOICES_SHOWN else ""
    )


class VoiceLists:
    """Each provider's voice ids, asked for once per request."""

    def __init__(self, providers: ProviderRegistry):
        self.providers = providers
        self.cache: dict[str, list[str]] = {}

    def of(self, name: str) -> list[str]:
        if name not in self.cache:
            try:
                self.cache[name] = self.providers.get(name).voice_ids()
            except (ProviderError, ConfigurationError):
                self.cache[name] = []  # cannot list them now; the provider will judge the voice
        return self.cache[name]


def check_block(
    block: BlockIn,
    owner: str,
    settings: Settings,
    providers: ProviderRegistry,
    voices: VoiceLists,
    accounts: SubmitChecks | None = None,
) -> tuple[BlockSpec | None, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    text = block.text.strip()
    if not text:
        problems.append(("text", "must not be empty"))
    elif len(block.text) > settings.MAX_BLOCK_CHARS:
        problems.append(
            ("text", f"at most {settings.MAX_BLOCK_CHARS} characters, got {len(block.text)}")
        )
    elif not speakable(text):
        problems.append(("text", "has nothing to speak: needs at least one letter or digit"))
    if not 0 <= block.wait_after_ms <= settings.MAX_PAUSE_MS:
        problems.append(
            (
                "wait_after_ms",
                f"must be between 0 and {settings.MAX_PAUSE_MS} ms, got {block.wait_after_ms}",
            )
        )
    if not MIN_SPEED <= block.speed <= MAX_SPEED:
        problems.append(
            ("speed", f"must be between {MIN_SPEED} and {MAX_SPEED}, got {block.speed}")
        )

    asked = block.provider or settings.DEFAULT_PROVIDER
    provider_name = providers.resolve(owner, asked)  # a service provider, or one's own account
    if provider_name is None:
        allowed = _allowed(providers.names_for(owner))
        return None, [*problems, ("provider", f"unknown provider {asked!r}; allowed: {allowed}")]
    if accounts and (refused := accounts.problem(provider_name)):  # base_url's address
        return None, [*problems, ("provider", refused)]
    provider = providers.get(provider_name)
    voice = block.voice or provider.default_voice
    # a block naming no voice takes the provider's default, which needs no list to check (a
    # list may mean a catalogue read or a vendor's call on every submit)
    known = voices.of(provider_name) if block.voice else []
    if known and voice not in known:
        problems.append(("voice", _unknown_voice(voice, asked, known, provider.voice_list_note())))
    speaker = None if block.speaker is None else str(block.speaker)
    if speaker is not None and (known == [] or voice in known):
        problems += _check_speaker(speaker, voice, provider.speakers_of(voice))
    chapter = block.chapter.strip() if block.chapter is not None else None
    if problem := tag_problem(chapter):
        problems.append(("chapter", problem))
    spec = BlockSpec(
        text,
        provider_name,
        voice,
        block.wait_after_ms,
        block.speed,
        block.id,
        speaker=speaker,
        chapter=chapter,
    )
    return spec, problems


def _unknown_voice(voice: str, asked: str, known: list[str], note: str | None) -> str:
    """Close matches first (a typo is the usual cause), then what is allowed, then why the
    list may be short just now."""
    close = difflib.get_close_matches(voice, known, n=CLOSE_MATCHES)
    message = f"unknown voice {voice!r} for provider {asked!r}; "
    if close:
        message += f"did you mean {', '.join(close)}? "
    message += f"allowed: {_allowed(known)}"
    return f"{message} ({note})" if note else message


def _check_speaker(speaker: str, voice: str, speakers: dict[str, int]) -> list[tuple[str, str]]:
    """A speaker by name (speaker_id_map) or index, of a voice that has more than one."""
    if not speakers:
        return [("speaker", f"voice {voice!r} has a single speaker; leave out speaker")]
    count = max(speakers.values()) + 1
    if speaker in speakers or (speaker.isdigit() and int(speaker) < count):
        return []
    return [
        (
            "speaker",
            f"unknown speaker {speaker!r} for voice {voice!r}; speakers: "
            f"{_allowed(list(speakers))} (or an index from 0 to {count - 1})",
        )
    ]


def tag_problem(value: str | None) -> str | None:
    """What is wrong with a tag or chapter title (stripped), if anything."""
    if value == "":
        return "must not be blank: a value, or leave it out"
    if value is not None and len(value) > TAG_MAX_CHARS:
        return f"at most {TAG_MAX_CHARS} characters, got {len(value)}"
    return None
