"""A script as a person writes it, turned into the body of POST /tts.

    JSON      starts with "{" (or is a JSON array): a whole job, sent as it is
    SSML      starts with "<speak" (or "<?xml"): sent as {"ssml": ...}
    Markdown  a .md name, or any "# heading" line: headings open chapters, Markdown marks
              are dropped (links keep their text, code blocks and images go)
    text      everything else: each paragraph (lines up to a blank line) is a block

A heading is spoken as a block of its own followed by a longer pause; where the server's
blocks take `chapter` (chapter_kind, from its OpenAPI document) that block also carries it,
so the chapter starts there. Servers without it are never sent a field they would refuse.
"""

from __future__ import annotations

import json
import re

MAX_PAUSE_MS = 10_000
HEADING_MIN_PAUSE_MS = 700

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_SPACE_BEFORE_MARK = re.compile(r"\s+([.,;:!?])")  # left where an image was dropped
_INLINE = [
    (re.compile(r"<!--.*?-->", re.S), ""),
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links keep their text
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"(\*\*|__|\*|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),
]


def kind_of(source: str, name: str | None = None) -> str:
    """ "json", "ssml", "markdown" or "text"."""
    head = source.lstrip()
    if head.startswith("{") or (head.startswith("[") and _parses(head)):
        return "json"
    if head.startswith("<speak") or head.startswith("<?xml"):
        return "ssml"
    if name and name.lower().endswith((".md", ".markdown")):
        return "markdown"
    if any(_HEADING.match(line) for line in source.splitlines()):
        return "markdown"
    return "text"


def script_to_job(
    source: str,
    *,
    name: str | None = None,
    provider: str | None = None,
    voice: str | None = None,
    speed: float | None = None,
    pause_ms: int = 500,
    output_format: str | None = None,
    chapter_kind: str | None = None,
) -> dict:
    """The job body for `source` (see the module's docstring); `name` is the file's name, a
    hint for Markdown. provider, voice and speed apply to every block of text or Markdown;
    pause_ms is the silence between paragraphs."""
    kind = kind_of(source, name)
    if kind == "json":
        job = json.loads(source)
        if not isinstance(job, dict):
            raise ValueError("a JSON script must be one object: a job as POST /tts takes it")
        return job
    if kind == "ssml":
        body: dict = {"ssml": source.strip()}
    else:
        pieces = _markdown(source) if kind == "markdown" else _paragraphs(source.splitlines())
        if not pieces:
            raise ValueError("the script has no text to speak")
        options = {"provider": provider, "voice": voice, "speed": speed}
        options = {k: v for k, v in options.items() if v is not None}
        heading_pause = min(MAX_PAUSE_MS, max(2 * pause_ms, HEADING_MIN_PAUSE_MS))
        blocks = []
        for text, is_heading in pieces:
            block = {"text": text, **options}
            block["wait_after_ms"] = heading_pause if is_heading else pause_ms
            if is_heading and chapter_kind:
                block["chapter"] = text if chapter_kind == "string" else True
            blocks.append(block)
        blocks[-1]["wait_after_ms"] = 0
        body = {"blocks": blocks}
    if output_format:
        body["output_format"] = output_format
    return body


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _paragraphs(lines: list[str]) -> list[tuple[str, bool]]:
    out, current = [], []
    for line in [*lines, ""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            out.append((" ".join(current), False))
            current = []
    return out


def _markdown(source: str) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    current: list[str] = []
    fenced = False

    def flush() -> None:
        text = _plain(" ".join(current))
        if text:
            out.append((text, False))
        current.clear()

    for line in source.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            flush()
            fenced = not fenced
            continue
        if fenced:
            continue  # code is not for reading aloud
        if heading := _HEADING.match(line):
            flush()
            if title := _plain(heading.group(2)):
                out.append((title, True))
        elif not line.strip() or _RULE.match(line):
            flush()
        elif _LIST_ITEM.match(line):
            flush()  # each item of a list is a block of its own
            current.append(_LIST_ITEM.sub("", line).strip())
        else:
            current.append(line.strip().lstrip(">").strip())
    flush()
    return out


def _plain(text: str) -> str:
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return _SPACE_BEFORE_MARK.sub(r"\1", " ".join(text.split()))
