"""SSML where the API takes text (a block's text, a job's `ssml`, the speech endpoint's input),
compiled (utils/text/ssml.py) into plain segments on real voices.

`<voice name>` names a voice of the block's provider, or `provider/voice`; `xml:lang` picks a
voice of that language from the provider's catalogue where the current voice speaks another
(providers whose voices are multilingual list no language, and keep the voice).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from api.cpu_gate import cpu_work
from api.schemas.jobs import BlockIn, JobIn
from config import Settings
from utils.errors import ConfigurationError, FieldError, InvalidRequest, ProviderError
from utils.text.source_map import SourceMap, TextMark
from utils.text.ssml import SSMLError, Voicing, compile_ssml, looks_like_ssml
from workers.providers import ProviderRegistry, Voice


@dataclass
class Spoken:
    """A segment of SSML as a block would say it."""

    text: str
    provider: str | None  # as the client named it (None: the default)
    voice: str | None
    speed: float
    volume_db: float
    wait_after_ms: int
    language: str | None
    source_map: SourceMap | None = None  # bytes of the document
    marks: list[TextMark] = field(default_factory=list)
    lexicons: tuple[str, ...] = ()  # named by <lexicon> and <lookup>


def _normal(language: str) -> str:
    return language.replace("-", "_").lower()


def _speaks(voice: Voice, language: str) -> bool:
    ours, wanted = _normal(voice.language or ""), _normal(language)
    return ours == wanted or ours.split("_")[0] == wanted.split("_")[0] and "_" not in wanted


class _Voices:
    """Each provider's voice list, asked for once per request."""

    def __init__(self, owner: str, providers: ProviderRegistry, default_provider: str):
        self.owner, self.providers, self.default = owner, providers, default_provider
        self.lists: dict[str, list[Voice]] = {}

    def of(self, provider: str | None) -> list[Voice]:
        name = self.providers.resolve(self.owner, provider or self.default)
        if name is None:
            return []  # the block's provider check reports it
        if name not in self.lists:
            try:
                self.lists[name] = self.providers.get(name).voices()
            except (ProviderError, ConfigurationError):
                self.lists[name] = []
        return self.lists[name]

    def for_language(self, provider: str | None, voice: str | None, language: str) -> str | None:
        """The voice to use for `language`: `voice` if it speaks it (or languages are not
        known), else the first of the provider's voices that does; SSMLError if none."""
        voices = self.of(provider)
        by_id = {v.id: v for v in voices}
        current = by_id.get(voice) if voice else None
        if not any(v.language for v in voices) or (current and _speaks(current, language)):
            return voice
        exact = [v for v in voices if _normal(v.language or "") == _normal(language)]
        close = exact or [v for v in voices if _speaks(v, language.split("-")[0])]
        if not close:
            languages = sorted({v.language for v in voices if v.language})
            raise SSMLError(
                f"no voice of provider {provider or self.default!r} speaks {language!r}; "
                f"languages: {', '.join(languages)}"
            )
        return close[0].id


def ssml_voices(owner: str, providers: ProviderRegistry, default_provider: str) -> _Voices:
    """Voice lists for expand_ssml, kept for one request."""
    return _Voices(owner, providers, default_provider)


def expand_ssml(
    document: str,
    *,
    provider: str | None,
    voice: str | None,
    speed: float,
    origin: tuple[str | int, ...],
    voices: _Voices,
) -> tuple[list[Spoken], int]:
    """The document's segments, each on its provider and voice, and the pause (ms) asked for
    before its first words; InvalidRequest naming `origin` (e.g. blocks[2].text) if invalid."""
    try:
        with cpu_work:
            segments, lead_ms = compile_ssml(document, Voicing())
        spoken = []
        for segment in segments:
            v = segment.voicing
            seg_provider, seg_voice = provider, voice
            if v.voice:
                named_provider, _, named_voice = v.voice.rpartition("/")
                seg_provider, seg_voice = named_provider or provider, named_voice
            elif v.language:
                seg_voice = voices.for_language(provider, voice, v.language)
            spoken.append(
                Spoken(
                    segment.text,
                    seg_provider,
                    seg_voice,
                    round(speed * v.rate, 4),
                    v.volume_db,
                    segment.wait_after_ms,
                    v.language,
                    SourceMap.from_spans(segment.text, segment.spans),
                    segment.marks,
                    v.lexicons,
                )
            )
    except SSMLError as exc:
        raise InvalidRequest([FieldError(origin, f"SSML {exc}")]) from None
    if not spoken:
        raise InvalidRequest([FieldError(origin, "SSML has nothing to speak")])
    return spoken, lead_ms


@dataclass
class JobItem:
    """A block to check: one the client sent, or one its SSML became."""

    block: BlockIn
    origin: tuple[str | int, ...]
    volume_db: float = 0.0
    segment: int | None = None  # which segment of the SSML at `origin`
    lead_ms: int = 0  # SSML: a pause asked for before its first words
    # where its text was in the job's input as sent, and its SSML marks (utils/text/source_map)
    source_map: SourceMap | None = None
    marks: tuple[TextMark, ...] = ()
    lexicons: tuple[str, ...] = ()  # SSML: lexicons its <lexicon> and <lookup> name

    def error(self, field: str, message: str) -> FieldError:
        if self.segment is None:
            return FieldError((*self.origin, field), message)
        said = self.block.text if len(self.block.text) <= 40 else self.block.text[:37] + "..."
        return FieldError(self.origin, f"SSML part {self.segment} ({said!r}): {field} {message}")


def _from_ssml(
    document: str, base: BlockIn | None, origin: tuple, voices: _Voices, at: int = 0
) -> list[JobItem]:
    """The blocks of an SSML document that starts `at` bytes into the job's input."""
    spoken, lead_ms = expand_ssml(
        document,
        provider=base.provider if base else None,
        voice=base.voice if base else None,
        speed=base.speed if base else 1.0,
        origin=origin,
        voices=voices,
    )
    if base:
        spoken[-1].wait_after_ms += base.wait_after_ms
    items = []
    for k, part in enumerate(spoken):
        client_id = base.id if base and base.id and k == 0 else None
        if base and base.id and k:
            client_id = f"{base.id}.{k}"
        block = BlockIn.model_construct(
            text=part.text,
            provider=part.provider,
            voice=part.voice,
            wait_after_ms=part.wait_after_ms,
            speed=part.speed,
            id=client_id,
            # the block's speaker stays with its own voice, not one SSML switched to
            speaker=base.speaker if base and part.voice == base.voice else None,
            chapter=base.chapter if base and k == 0 else None,  # opened by its first words
        )
        marks = tuple(replace(m, start=m.start + at, end=m.end + at) for m in part.marks)
        source_map = part.source_map.shifted(at) if part.source_map else None
        items.append(
            JobItem(
                block,
                origin,
                part.volume_db,
                k,
                source_map=source_map,
                marks=marks,
                lexicons=part.lexicons,
            )
        )
    items[0].lead_ms = lead_ms
    return items


def job_items(
    job: JobIn, owner: str, settings: Settings, providers: ProviderRegistry
) -> tuple[list[JobItem], list[FieldError]]:
    """The blocks to check, with SSML compiled into blocks of its own."""
    voices = _Voices(owner, providers, settings.DEFAULT_PROVIDER)
    if job.ssml is not None:
        if job.blocks:
            return [], [FieldError(("ssml",), "give blocks or ssml, not both")]
        try:
            return _from_ssml(job.ssml, None, ("ssml",), voices), []
        except InvalidRequest as exc:
            return [], list(exc.errors)
    if len(job.blocks) > settings.MAX_BLOCKS:
        message = f"at most {settings.MAX_BLOCKS} blocks per job, got {len(job.blocks)}"
        return [], [FieldError(("blocks",), message)]
    items: list[JobItem] = []
    errors: list[FieldError] = []
    at = 0  # where the block's text starts in the input: the blocks' texts joined by "\n"
    for index, block in enumerate(job.blocks):
        block_at, at = at, at + len(block.text.encode()) + 1
        if not looks_like_ssml(block.text):
            stripped = block.text.strip()  # as check_block keeps it
            lead = len(block.text[: len(block.text) - len(block.text.lstrip())].encode())
            source_map = SourceMap.plain(stripped, block_at + lead)
            items.append(JobItem(block, ("blocks", index), source_map=source_map))
            continue
        try:
            origin = ("blocks", index, "text")
            compiled = _from_ssml(block.text, block, origin, voices, block_at)
        except InvalidRequest as exc:
            errors += exc.errors
            continue
        if compiled[0].lead_ms and items:
            # a pause before its first words lengthens the pause after the block before
            # (before the job's first words there is nothing to hold it: it is not kept)
            items[-1].block = items[-1].block.model_copy(
                update={"wait_after_ms": items[-1].block.wait_after_ms + compiled[0].lead_ms}
            )
        items += compiled
    return items, errors
