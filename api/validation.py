"""A submitted job checked in two stages, every problem of both listed in one 422.

1. Reading (`read_job`): the body against JobIn, field names and JSON types (pydantic).
2. Checking (`check_job`): what needs configuration: limits, providers, voices, formats, SSML.

Every problem is collected (not just the first) and named by block index and field, with the
values that would have been accepted, so a client can fix the whole request at once. Were
FastAPI to read the body before the route, its first type error would be answered alone and
the checks of stage 2 never run; so POST /tts takes its body as sent (UncheckedJob) and both
stages run here. Where stage 1 refuses a value, stage 2 checks the job without it, and leaves
out what it would say about the same place (a second message about one wrong value).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.block_checks import VoiceLists, check_block, tag_problem
from api.lexicon_blocks import RequestLexicons
from api.schemas.jobs import JobIn
from api.ssml_blocks import job_items
from config import Settings
from utils.accounts.upstream_access import SubmitChecks
from utils.audio.cover_art import Cover, as_cover, cover_problem
from utils.audio.formats import OutputFormat, describe_output_formats
from utils.audio.loudness_target import (
    LUFS_RANGE,
    PEAK_RANGE,
    PRESETS,
    LoudnessTarget,
    describe_presets,
)
from utils.audio.tags import TAG_FIELDS
from utils.errors import CallbackRefused, FieldError
from utils.jobs.models import BlockSpec, JobOptions
from utils.lexicons.store import LexiconStore
from utils.webhooks.addresses import AddressPolicy, check_callback_url
from workers.providers import ProviderRegistry

NEEDS_BLOCKS = 'a job needs `blocks` (a list of {"text": ...}) or `ssml`'
# Stand in for a required text of the wrong type, so that the rest of its block (or the job)
# is still checked; what stage 2 says about the stand-in itself is left out.
TEXT_STAND_IN = "Stand-in."
SSML_STAND_IN = f"<speak>{TEXT_STAND_IN}</speak>"
# A value checked against another: where the other was refused, stage 2 would check it
# against the default instead (a voice of the default provider), so it is not checked.
CHECKED_AGAINST = {"provider": ("voice", "speaker"), "voice": ("speaker",)}

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class ValidJob:
    """A job as JobSubmitter.submit takes it: defaults applied, SSML compiled into blocks."""

    output_format: str
    blocks: list[BlockSpec]
    options: JobOptions
    combine: bool
    callback_url: str | None
    cover: Cover | None = None  # stored with the job's audio at submit (utils/jobs/covers.py)


def validate_job(
    body: Any,
    owner: str,
    settings: Settings,
    providers: ProviderRegistry,
    lexicons: LexiconStore | None = None,
) -> ValidJob:
    """The job ready to submit; RequestValidationError listing every problem of both stages."""
    job, refused, settled = read_job(body)
    valid, problems = check_job(job, owner, settings, providers, lexicons) if job else (None, [])
    problems = [p for p in problems if not any(p.loc[: len(s)] == s for s in settled)]
    if refused or problems:
        raise RequestValidationError([*refused, *map(_as_pydantic_error, problems)])
    assert valid is not None  # no problem: stage 2 made the job
    return valid


def read_job(body: Any) -> tuple[JobIn | None, list[dict], set[Loc]]:
    """Stage 1: the job as JobIn, pydantic's errors (located in the body), and the fields they
    settle. Where values are refused, the job is the rest of the body (None if there is none)."""
    try:
        return JobIn.model_validate(body), [], set()
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    settled: set[Loc] = set()
    for error in errors:
        field = _field(error["loc"])
        settled.add(field)
        if field:
            settled.update((*field[:-1], name) for name in CHECKED_AGAINST.get(field[-1], ()))
        unknown_at_top = error["type"] == "extra_forbidden" and len(field) == 1
        if unknown_at_top and not {"blocks", "ssml"} & set(body):
            error["ctx"] = {"hint": NEEDS_BLOCKS}  # {"text": ...} alone: say what a job is
            settled.add(("blocks",))  # said once, here
    located = [{**e, "loc": ("body", *e["loc"])} for e in errors]
    if not isinstance(body, dict):
        return None, located, settled
    try:
        rest = _without(body, {_field(e["loc"]) for e in errors})
        return JobIn.model_validate(rest), located, settled
    except ValidationError:  # not expected: every refused value was taken out
        return None, located, settled


def _field(loc: Loc) -> Loc:
    """The field of the job or of a block that an error's location is in."""
    return loc[:3] if loc[:1] == ("blocks",) else loc[:1]


def _without(body: dict, refused: set[Loc]) -> dict:
    """The body with each refused field taken out (its default applies), or a stand-in where
    the field is required; a block that is not an object becomes a block of stand-in text."""
    rest = dict(body)
    if isinstance(rest.get("blocks"), list):
        rest["blocks"] = [dict(b) if isinstance(b, dict) else b for b in rest["blocks"]]
    for field in refused:
        match field:
            case ("blocks",):
                rest["blocks"] = []
            case ("blocks", int(index)):
                rest["blocks"][index] = {"text": TEXT_STAND_IN}
            case ("blocks", int(index), "text"):
                rest["blocks"][index]["text"] = TEXT_STAND_IN
            case ("blocks", int(index), name):
                rest["blocks"][index].pop(name, None)
            case ("ssml",) if "blocks" not in rest:
                rest["ssml"] = SSML_STAND_IN  # else "blocks: is required" would follow
            case (name,):
                rest.pop(name, None)
    return rest


def _as_pydantic_error(problem: FieldError) -> dict:
    """A stage-2 problem in the shape of pydantic's errors, to be answered with them."""
    return {"loc": ("body", *problem.loc), "msg": problem.message, "type": "value_error"}


def job_options(job: JobIn) -> tuple[JobOptions, list[FieldError]]:
    """The job's tags and loudness target, and what is wrong with them."""
    errors: list[FieldError] = []
    tags: dict[str, str | None] = {}
    for name in TAG_FIELDS:
        value = getattr(job, name)
        tags[name] = value.strip() if value is not None else None
        if problem := tag_problem(tags[name]):
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


def check_job(
    job: JobIn,
    owner: str,
    settings: Settings,
    providers: ProviderRegistry,
    lexicons: LexiconStore | None = None,
) -> tuple[ValidJob | None, list[FieldError]]:
    """Stage 2: the job with defaults applied and SSML compiled, and what is wrong with it."""
    errors: list[FieldError] = []
    output_format = job.output_format or settings.DEFAULT_OUTPUT_FORMAT
    try:
        OutputFormat.parse(output_format)
    except ValueError:
        message = f"unknown format {output_format!r}; allowed: {describe_output_formats()}"
        errors.append(FieldError(("output_format",), message))

    options, problems = job_options(job)
    errors += problems
    cover, problems = _cover(job.cover, settings.books.max_cover_bytes)
    errors += problems
    options = replace(options, cover=cover.mime) if cover else options
    items, problems = job_items(job, owner, settings, providers)
    errors += problems
    where = ("ssml",) if job.ssml is not None else ("blocks",)
    if not items and not problems:
        given = job.ssml is not None or "blocks" in job.model_fields_set
        message = "must contain at least one block" if given else f"is required: {NEEDS_BLOCKS}"
        errors.append(FieldError(where, message))
    elif len(items) > settings.MAX_BLOCKS:
        message = f"at most {settings.MAX_BLOCKS} blocks per job, got {len(items)} from SSML"
        errors.append(FieldError(where, message))

    specs: list[BlockSpec] = []
    voices = VoiceLists(providers)
    accounts = SubmitChecks(providers)
    said = RequestLexicons(lexicons, owner, settings, providers, job.lexicons) if lexicons else None
    if said is not None:
        errors += said.check_named(("lexicons",))
    for item in items[: settings.MAX_BLOCKS]:
        spec, problems = check_block(item.block, owner, settings, providers, voices, accounts)
        errors += [item.error(field, message) for field, message in problems]
        if spec and said is not None and not problems:
            spec, problems = said.apply(spec, item.lexicons, item.error)
            errors += problems
        if spec:
            specs.append(
                replace(
                    spec, volume_db=item.volume_db, source_map=item.source_map, marks=item.marks
                )
            )
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
        return None, errors
    return ValidJob(output_format, specs, options, job.combine, job.callback_url, cover), []


def _cover(encoded: str | None, max_bytes: int) -> tuple[Cover | None, list[FieldError]]:
    """The job's cover image from its base64 text, or what is wrong with it."""
    if encoded is None:
        return None, []
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None, [FieldError(("cover",), "must be a PNG or JPEG image in base64")]
    if problem := cover_problem(data, max_bytes):
        return None, [FieldError(("cover",), problem)]
    return as_cover(data), []
