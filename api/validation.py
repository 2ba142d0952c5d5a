"""Checks on a submitted job that need configuration: limits, providers, voices, formats.

Every problem is collected (not just the first) and named by block index and field, with the
values that would have been accepted, so a client can fix the whole request at once.
"""

from __future__ import annotations

import difflib
from dataclasses import replace

from api.schemas import MAX_SPEED, MIN_SPEED, TAG_MAX_CHARS, BlockIn, JobIn
from api.ssml_blocks import job_items
from config import Settings
from utils.accounts.upstream_access import SubmitChecks
from utils.audio.formats import OutputFormat, describe_output_formats
from utils.audio.loudness_target import (
    LUFS_RANGE,
    PEAK_RANGE,
    PRESETS,
    LoudnessTarget,
    describe_presets,
)
from utils.audio.tags import TAG_FIELDS
from utils.errors import (
    CallbackRefused,
    ConfigurationError,
    FieldError,
    InvalidRequest,
    ProviderError,
)
from utils.jobs.models import BlockSpec, JobOptions
from utils.text.sentences import speakable
from utils.webhooks.addresses import AddressPolicy, check_callback_url
from workers.providers import ProviderRegistry

VOICES_SHOWN = 20
CLOSE_MATCHES = 3


def _allowed(values: list[str]) -> str:
    shown = ", ".join(values[:VOICES_SHOWN])
    return shown + (
        f" (and {len(values) - VOICES_SHOWN} more)" if len(values) > VOICES_SHOWN else ""
    )


class _VoiceLists:
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


def _check_block(
    block: BlockIn,
    owner: str,
    settings: Settings,
    providers: ProviderRegistry,
    voices: _VoiceLists,
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
    known = voices.of(provider_name)
    if known and voice not in known:
        problems.append(("voice", _unknown_voice(voice, asked, known, provider.voice_list_note())))
    speaker = None if block.speaker is None else str(block.speaker)
    if speaker is not None and (known == [] or voice in known):
        problems += _check_speaker(speaker, voice, provider.speakers_of(voice))
    chapter = block.chapter.strip() if block.chapter is not None else None
    if problem := _tag_problem(chapter):
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


def _tag_problem(value: str | None) -> str | None:
    """What is wrong with a tag or chapter title (stripped), if anything."""
    if value == "":
        return "must not be blank: a value, or leave it out"
    if value is not None and len(value) > TAG_MAX_CHARS:
        return f"at most {TAG_MAX_CHARS} characters, got {len(value)}"
    return None


def job_options(job: JobIn) -> tuple[JobOptions, list[FieldError]]:
    """The job's tags and loudness target, and what is wrong with them."""
    errors: list[FieldError] = []
    tags: dict[str, str | None] = {}
    for name in TAG_FIELDS:
        value = getattr(job, name)
        tags[name] = value.strip() if value is not None else None
        if problem := _tag_problem(tags[name]):
            errors.append(FieldError((name,), problem))
    target = None
    if isinstance(job.loudness, str):
        if job.loudness in PRESETS:
            target = LoudnessTarget(*PRESETS[job.loudness])
        else:
            message = (
                f"unknown preset {job.loudness!r}; allowed: {describe_presets()}, or "
                '{"integrated_lufs": -16, "true_peak_db": -1}'
            )
            errors.append(FieldError(("loudness",), message))
    elif job.loudness is not None:
        target = LoudnessTarget(job.loudness.integrated_lufs, job.loudness.true_peak_db)
        for name, value, (low, high), unit in (
            ("integrated_lufs", target.integrated_lufs, LUFS_RANGE, "LUFS"),
            ("true_peak_db", target.true_peak_db, PEAK_RANGE, "dBTP"),
        ):
            if not low <= value <= high:
                message = f"must be between {low:g} and {high:g} {unit}, got {value:g}"
                errors.append(FieldError(("loudness", name), message))
    return JobOptions(**{k: v or None for k, v in tags.items()}, loudness=target), errors


def validate_job(
    job: JobIn, owner: str, settings: Settings, providers: ProviderRegistry
) -> tuple[str, list[BlockSpec]]:
    """The output format and block specs with defaults applied; InvalidRequest lists problems."""
    errors: list[FieldError] = []
    output_format = job.output_format or settings.DEFAULT_OUTPUT_FORMAT
    try:
        OutputFormat.parse(output_format)
    except ValueError:
        message = f"unknown format {output_format!r}; allowed: {describe_output_formats()}"
        errors.append(FieldError(("output_format",), message))

    errors += job_options(job)[1]
    items, problems = job_items(job, owner, settings, providers)
    errors += problems
    where = ("ssml",) if job.ssml is not None else ("blocks",)
    if not items and not problems:
        errors.append(FieldError(where, "must contain at least one block"))
    elif len(items) > settings.MAX_BLOCKS:
        message = f"at most {settings.MAX_BLOCKS} blocks per job, got {len(items)} from SSML"
        errors.append(FieldError(where, message))

    specs: list[BlockSpec] = []
    voices = _VoiceLists(providers)
    accounts = SubmitChecks(providers)
    for item in items[: settings.MAX_BLOCKS]:
        spec, problems = _check_block(item.block, owner, settings, providers, voices, accounts)
        errors += [item.error(field, message) for field, message in problems]
        if spec:
            specs.append(replace(spec, volume_db=item.volume_db) if item.volume_db else spec)
    first_with: dict[str, int] = {}
    for index, block in enumerate(job.blocks):
        if block.id is not None and first_with.setdefault(block.id, index) != index:
            message = f"{block.id!r} already names block {first_with[block.id]}"
            errors.append(FieldError(("blocks", index, "id"), message))
    if job.callback_url is not None:
        try:  # resolves the host: every address must be one webhooks may call
            check_callback_url(job.callback_url, AddressPolicy.from_settings(settings))
        except CallbackRefused as exc:
            errors += exc.errors
    if errors:
        raise InvalidRequest(errors)
    return output_format, specs
