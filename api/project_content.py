"""A project's content as the API receives it, made into what the store keeps, and a project
made into the job that renders it.

Saving checks the shape and the limits of a job (MAX_BLOCKS blocks of MAX_BLOCK_CHARS), since
a draft may still be unfinished; everything else a block must be (a known voice, something to
speak) is checked when the project is rendered, by the job's own validation, which names the
block.
"""

from __future__ import annotations

import uuid

from pydantic import TypeAdapter, ValidationError

from api.schemas.projects import ProjectBlock, ProjectContent
from config import Settings
from utils.errors import FieldError, InvalidRequest
from utils.jobs.models import JobRecord
from utils.projects.books import read_book_script
from utils.projects.scripts import Script, ScriptError, detect_format, read_script

JOB_FIELDS = ("title", "author", "output_format", "loudness")
BLOCK_FIELDS = ("text", "provider", "voice", "wait_after_ms", "speed", "chapter")
_BLOCKS = TypeAdapter(list[ProjectBlock])


def content_from(body: ProjectContent, settings: Settings) -> dict:
    """What the store keeps of `body`: its job fields and blocks (from a script where given),
    each block with an id; InvalidRequest naming the field where a limit is passed."""
    if body.blocks is not None and body.script is not None:
        raise InvalidRequest([FieldError(("script",), "give blocks or a script, not both")])
    fields = {name: _plain(getattr(body, name)) for name in JOB_FIELDS}
    if body.script is not None:
        fmt = body.script_format or detect_format(body.script)
        try:
            script = read_script(body.script, fmt, settings.MAX_BLOCK_CHARS)
        except ScriptError as exc:
            raise InvalidRequest([FieldError(("script",), str(exc))]) from None
        return _from_script(script, fields, settings, ("script",))
    blocks = [b.model_dump(exclude_none=True) for b in body.blocks or []]
    return {**fields, "blocks": _checked(blocks, settings, ())}


def content_from_file(data: bytes, filename: str, title: str | None, settings: Settings) -> dict:
    """An uploaded script (text, Markdown, SSML, JSON) or EPUB book as a project's content."""
    where = ("file",)
    try:
        if filename.lower().endswith(".epub") or data.startswith(b"PK\x03\x04"):
            script = read_book_script(data, settings.MAX_BLOCK_CHARS)
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ScriptError("not UTF-8 text (nor an EPUB book)") from None
            script = read_script(text, detect_format(text, filename), settings.MAX_BLOCK_CHARS)
    except ScriptError as exc:
        raise InvalidRequest([FieldError(where, str(exc))]) from None
    fields = dict.fromkeys(JOB_FIELDS)
    fields["title"] = title
    return _from_script(script, fields, settings, where)


def _from_script(script: Script, fields: dict, settings: Settings, where: tuple) -> dict:
    try:
        blocks = _BLOCKS.validate_python(script.blocks)
    except ValidationError as exc:
        problems = [FieldError((*where, "blocks", *e["loc"]), e["msg"]) for e in exc.errors()[:20]]
        raise InvalidRequest(problems) from None
    fields = {**fields}
    fields["title"] = fields["title"] or script.title
    fields["author"] = fields["author"] or script.author
    for name in ("output_format", "loudness"):
        fields[name] = fields[name] or script.extra.get(name)
    blocks = [b.model_dump(exclude_none=True) for b in blocks]
    return {**fields, "blocks": _checked(blocks, settings, where)}


def _plain(value):
    return value.model_dump() if hasattr(value, "model_dump") else value


def _checked(blocks: list[dict], settings: Settings, where: tuple) -> list[dict]:
    """The blocks with ids; InvalidRequest past a job's limits, naming the block (under
    `where`: () for a body's blocks, ("script",) for the blocks read from a script)."""
    if len(blocks) > settings.MAX_BLOCKS:
        message = (
            f"at most {settings.MAX_BLOCKS} blocks (MAX_BLOCKS, the limit of a job), "
            f"got {len(blocks)}"
        )
        raise InvalidRequest([FieldError((*where, "blocks"), message)])
    problems, seen = [], {}
    for n, block in enumerate(blocks):
        at = (*where, "blocks", n)
        if len(block["text"]) > settings.MAX_BLOCK_CHARS:
            message = f"at most {settings.MAX_BLOCK_CHARS} characters, got {len(block['text'])}"
            problems.append(FieldError((*at, "text"), message))
        if block.get("wait_after_ms", 0) > settings.MAX_PAUSE_MS:
            message = f"at most {settings.MAX_PAUSE_MS} ms, got {block['wait_after_ms']}"
            problems.append(FieldError((*at, "wait_after_ms"), message))
        block_id = block.setdefault("id", uuid.uuid4().hex[:12])
        if block_id in seen:
            message = f"{block_id!r} is also the id of block {seen[block_id]}"
            problems.append(FieldError((*at, "id"), message))
        seen[block_id] = n
    if problems:
        raise InvalidRequest(problems)
    return blocks


def job_body(project: dict) -> dict:
    """The project as a POST /tts body: each block named by its id, which the job's blocks
    carry (an SSML block's parts as id.1, id.2, ...)."""
    body = {name: project[name] for name in JOB_FIELDS if project.get(name) is not None}
    body["blocks"] = [
        {
            "id": block["id"],
            **{k: block[k] for k in BLOCK_FIELDS if block.get(k) is not None},
        }
        for block in project["blocks"]
    ]
    return body


def rendered_blocks(project: dict, job: JobRecord) -> list[dict]:
    """Each project block, the job's blocks it became, and whether all came from the cache."""
    made: dict[str, list] = {}
    for block in job.blocks:
        made.setdefault((block.spec.client_id or "").split(".")[0], []).append(block)
    out = []
    for index, block in enumerate(project["blocks"]):
        parts = made.get(block["id"], [])
        cached = bool(parts) and all(part.cached for part in parts)
        out.append(
            {
                "index": index,
                "id": block["id"],
                "made": "cached" if cached else "new",
                "job_blocks": [part.index for part in parts],
            }
        )
    return out
