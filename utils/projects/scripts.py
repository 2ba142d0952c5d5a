"""A pasted or uploaded script made into a project's blocks: plain text (a block per
paragraph), Markdown (headings open chapters; markdown-it-py reads it as CommonMark), SSML (a
block per <p>, each a document of its own with the root's attributes), or JSON (blocks as
POST /tts takes them, alone or in an object with a title and author).

What a block may then say is checked when the project is rendered, as for any job: here only
the shape of the script. A paragraph longer than a block may be is cut at sentence ends.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from markdown_it import MarkdownIt

from utils.text.sentences import pieces
from utils.text.ssml_parser import SSMLError, local_name, parse

FORMATS = ("text", "markdown", "ssml", "json")
EXTENSIONS = {
    "txt": "text",
    "text": "text",
    "md": "markdown",
    "markdown": "markdown",
    "ssml": "ssml",
    "xml": "ssml",
    "json": "json",
}
PIECE_CHARS = 1000  # a paragraph past the block limit: cut into pieces of about this size


class ScriptError(ValueError):
    """A script that cannot be read as its format; the message says where."""


@dataclass
class Script:
    blocks: list[dict] = field(default_factory=list)  # {"text", and "chapter" where one opens}
    title: str | None = None
    author: str | None = None
    extra: dict = field(default_factory=dict)  # JSON scripts: the job's other fields


def detect_format(text: str, filename: str | None = None) -> str:
    """The format a script is written in: by its file's extension, else by its first
    characters."""
    if filename and "." in filename:
        found = EXTENSIONS.get(filename.rsplit(".", 1)[1].lower())
        if found:
            return found
    start = text.lstrip()[:200]
    if start.startswith("<") and re.search(r"<speak\b", start):
        return "ssml"
    if start[:1] in "[{":
        try:
            json.loads(text)
            return "json"
        except ValueError:
            pass
    if re.search(r"^#{1,6} \S", text, re.MULTILINE):
        return "markdown"
    return "text"


def read_script(text: str, fmt: str, max_chars: int) -> Script:
    """The script's blocks; ScriptError where it cannot be read as `fmt`."""
    reader = {"text": _text, "markdown": _markdown, "ssml": _ssml, "json": _json}[fmt]
    script = reader(text, max_chars)
    if not script.blocks:
        raise ScriptError(f"the {fmt} script has nothing to speak")
    return script


def paragraph_blocks(paragraph: str, max_chars: int, chapter: str | None) -> list[dict]:
    texts = (
        [paragraph] if len(paragraph) <= max_chars else pieces(paragraph, PIECE_CHARS, max_chars)
    )
    blocks = [{"text": t} for t in texts]
    if chapter and blocks:
        blocks[0]["chapter"] = chapter
    return blocks


def _text(text: str, max_chars: int) -> Script:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    blocks = [b for p in paragraphs if p for b in paragraph_blocks(p, max_chars, None)]
    return Script(blocks)


def _markdown(text: str, max_chars: int) -> Script:
    tokens = MarkdownIt("commonmark").parse(text)
    headings = [(i, t.tag) for i, t in enumerate(tokens) if t.type == "heading_open"]
    # A lone H1 at the very top names the document; every other heading opens a chapter.
    title_at = None
    if headings and headings[0] == (0, "h1") and [h for _, h in headings].count("h1") == 1:
        title_at = 0
    script, chapter = Script(), None
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            words = _inline_text(tokens[i + 1]).strip() or None
            if i == title_at:
                script.title = words
            else:
                chapter = words  # the next paragraph opens it (a heading right after wins)
        elif token.type == "paragraph_open":
            words = _inline_text(tokens[i + 1]).strip()
            if words:
                script.blocks += paragraph_blocks(words, max_chars, chapter)
                chapter = None
    return script


def _inline_text(token) -> str:
    """What an inline token says: its text, code and link words; images by their alt text."""
    out = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "image":
            out.append(child.content)
    return "".join(out)


def _ssml(text: str, max_chars: int) -> Script:
    try:
        root, _ = parse(text)
    except SSMLError as exc:
        raise ScriptError(f"SSML: {exc}") from None
    if local_name(root.tag) != "speak":
        raise ScriptError(f"SSML: the root element is <{local_name(root.tag)}>, not <speak>")
    children = list(root)
    outside = (root.text or "") + "".join(child.tail or "" for child in children)
    split = children and not outside.strip()
    split = split and all(local_name(c.tag) in ("p", "paragraph") for c in children)
    if not split:  # anything between the paragraphs: the document stays one block
        return Script([{"text": text.strip()}])
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else None
    for element in root.iter():
        element.tag = local_name(element.tag)  # the root declares the namespace once
    attributes = "".join(f' {_attribute(k)}="{_escape(v)}"' for k, v in root.attrib.items())
    if namespace:
        attributes = f' xmlns="{_escape(namespace)}"{attributes}'
    blocks = []
    for paragraph in children:
        paragraph.tail = None
        inner = ET.tostring(paragraph, encoding="unicode")
        blocks.append({"text": f"<speak{attributes}>{inner.strip()}</speak>"})
    return Script(blocks)


def _attribute(name: str) -> str:
    if name == "{http://www.w3.org/XML/1998/namespace}lang":
        return "xml:lang"
    return local_name(name)


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _json(text: str, max_chars: int) -> Script:
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise ScriptError(f"not JSON: {exc}") from None
    if isinstance(body, list):
        body = {"blocks": body}
    if not isinstance(body, dict) or not isinstance(body.get("blocks"), list):
        raise ScriptError("JSON: expected a list of blocks, or an object with `blocks`")
    for n, block in enumerate(body["blocks"]):
        if not isinstance(block, dict):
            raise ScriptError(f"JSON: blocks[{n}] is not an object")
    extra = {k: v for k, v in body.items() if k not in ("blocks", "title", "author")}
    return Script(body["blocks"], body.get("title"), body.get("author"), extra)
