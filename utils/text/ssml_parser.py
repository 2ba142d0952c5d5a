"""SSML read as XML, safely and with positions, for the compiler in utils/text/ssml.py.

Parsing is defusedxml's: no DTD, no entity declarations, no external references, so an
entity bomb is refused before anything is expanded. Every element's line and column is kept,
so an error names where in the document it is; past MAX_ELEMENTS a document is refused while
still being read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

# Past this many elements a document is refused while still being read: a huge document of
# tags answers in milliseconds instead of being built into a tree first.
MAX_ELEMENTS = 10_000


class SSMLError(ValueError):
    """Invalid SSML; `line` and `column` (1-based) where known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"{where}{message}")
        self.line, self.column = line, column


class _Positions(ET.TreeBuilder):
    """A tree builder that remembers where each element starts, for errors."""

    def __init__(self):
        super().__init__()
        self.parser = None
        self.at: dict[int, tuple[int, int]] = {}

    def ready(self) -> None:
        """Called once the parser is set, before anything is read."""

    def start(self, tag, attrs):
        expat = self.parser.parser
        where = (expat.CurrentLineNumber, expat.CurrentColumnNumber + 1)
        if len(self.at) >= MAX_ELEMENTS:
            raise SSMLError(f"more than {MAX_ELEMENTS} elements", *where)
        element = super().start(tag, attrs)
        self.at[id(element)] = where
        return element


def parse(
    document: str, builder: _Positions | None = None
) -> tuple[ET.Element, dict[int, tuple[int, int]]]:
    """The document's root and where each element starts; `builder` may be a _Positions that
    keeps more (utils/text/ssml_source.py: where each piece of text was)."""
    builder = builder or _Positions()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    builder.ready()
    try:
        parser.feed(document)
        root = parser.close()
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        raise SSMLError(f"not well-formed XML ({reason})", line, column + 1) from None
    except DefusedXmlException as exc:
        refused = type(exc).__name__
        raise SSMLError(
            f"DTDs, entity declarations and external references are not allowed ({refused})"
        ) from None
    return root, builder.at


def local_name(tag: str) -> str:
    """A tag or attribute without its namespace: SSML may be written with or without one."""
    return tag.rsplit("}", 1)[-1]
