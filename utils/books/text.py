"""A book's XHTML documents as paragraphs of plain text, with where its anchors fall.

Documents are parsed by lxml's HTML parser (it knows HTML's named entities such as &nbsp;,
which XHTML books use without declaring; it never loads a DTD or the network). Text is
gathered in document order and cut at every block element's start and end, so nested blocks
(a <div> holding <p>s) give one paragraph per <p>, and inline markup (<em>, <a>, <span>) stays
inside its paragraph. An element with an id is an anchor: a table of contents may start a
chapter there (`doc.xhtml#part2`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree, html

from utils.text.sentences import speakable

BLOCKS = frozenset(
    ("address", "article", "aside", "blockquote", "body", "caption", "dd", "div", "dl", "dt",
     "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
     "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul")
)  # fmt: skip
SKIPPED = frozenset(("head", "script", "style", "title", "rt", "rp"))  # rt: ruby readings
HEADINGS = ("h1", "h2", "h3")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Anchor:
    id: str


@dataclass(frozen=True)
class Heading:
    text: str


def _parser() -> html.HTMLParser:
    return html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)


def document_events(
    content: bytes, anchors: frozenset[str] = frozenset()
) -> list[str | Anchor | Heading]:
    """The document's paragraphs (str, whitespace collapsed, each with something to say) in
    order, with an Anchor where an element whose id is in `anchors` starts (a paragraph ends
    there) and a Heading (h1-h3) before the paragraph it is."""
    if not content.strip():
        return []
    try:
        root = html.document_fromstring(content, parser=_parser())
    except (etree.ParserError, ValueError):
        return []
    events: list[str | Anchor | Heading] = []
    words: list[str] = []

    def flush() -> None:
        text = _SPACES.sub(" ", "".join(words)).strip()
        words.clear()
        if speakable(text):
            events.append(text)

    body = root.find("body")
    walker = etree.iterwalk(body if body is not None else root, events=("start", "end"))
    for action, element in walker:  # iterative: a deeply nested document cannot recurse
        tag = _tag(element)
        if action == "start":
            if tag in SKIPPED:
                walker.skip_subtree()
                continue
            anchor = element.get("id") in anchors
            if tag in BLOCKS or anchor:
                flush()
            if anchor:
                events.append(Anchor(element.get("id")))
            if tag in HEADINGS:
                heading = _SPACES.sub(" ", element.text_content()).strip()
                if speakable(heading):
                    events.append(Heading(heading))
            words.append(" " if tag == "br" else element.text or "")
            continue
        if tag in BLOCKS:
            flush()
        words.append(element.tail or "")
    flush()
    return events


def _tag(element) -> str:
    """The element's name without a namespace, lower case; "" for comments and the like."""
    return element.tag.split("}")[-1].lower() if isinstance(element.tag, str) else ""


def document_title(content: bytes) -> str | None:
    """The document's first heading, else its <title>: a chapter's name where no table of
    contents gives one."""
    for event in document_events(content):
        if isinstance(event, Heading):
            return event.text
    try:
        root = html.document_fromstring(content, parser=_parser())
    except (etree.ParserError, ValueError):
        return None
    title = root.findtext(".//title")
    return _SPACES.sub(" ", title).strip() or None if title else None
