"""The shell and Python examples of README.md and docs/*.md, as a reader would paste them.

A fenced block whose language is bash, sh or python is an example. One that cannot run on a
development machine (Docker, Kubernetes, cloud credentials, `make run` itself) is marked by an
HTML comment on the line before its fence, with the reason:

    <!-- not-run: needs a Kubernetes cluster -->
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = {"bash": "bash", "sh": "bash", "python": "python"}
_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w-]*)(.*)$")
_NOT_RUN = re.compile(r"^<!--\s*not-run:\s*(.*?)\s*-->$")
# Files an example writes: curl -o FILE, tts ... -o FILE, stream_to_file("FILE"),
# open("FILE", "wb"), client.download(job, "FILE").
_OUTPUTS = (
    re.compile(r"(?:^|\s)-o\s+([\w./-]+)"),
    re.compile(r"stream_to_file\(\"([^\"]+)\"\)"),
    re.compile(r"open\(\"([^\"]+)\", \"wb\"\)"),
    re.compile(r"\.download\([^,()]+,\s*\"([^\"]+)\"\)"),
)


@dataclass(frozen=True)
class Example:
    page: str  # relative to the project root
    line: int  # of the opening fence, 1-based
    language: str  # bash or python
    code: str
    not_run: str | None  # the reason given, where the example is marked

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    def outputs(self) -> list[str]:
        """Files the example writes (downloads, mostly), relative to where it runs."""
        return [m for pattern in _OUTPUTS for m in pattern.findall(self.code)]


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def examples(path: Path) -> list[Example]:
    """Every bash/sh/python block of a Markdown file, in order. Blocks nested in a longer
    fence (a Markdown example of Markdown) are not examples."""
    found = []
    lines = path.read_text().splitlines()
    fence, start, language, body = None, 0, None, []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if fence is None:
            match = _FENCE.match(stripped)
            if match:
                fence, start, body = match[1], number, []
                language = LANGUAGES.get(match[2].lower())
            continue
        if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
            if language:
                found.append(
                    Example(
                        str(path.relative_to(ROOT)),
                        start,
                        language,
                        "\n".join(body) + "\n",
                        _marker(lines, start),
                    )
                )
            fence = None
            continue
        body.append(line)
    return found


def _marker(lines: list[str], fence_line: int) -> str | None:
    """The not-run reason on the non-empty line before the fence, if there is one."""
    for previous in reversed(lines[: fence_line - 1]):
        if previous.strip():
            match = _NOT_RUN.match(previous.strip())
            return match[1] if match else None
    return None


def stray_markers(path: Path) -> list[int]:
    """Lines of not-run markers that do not stand right before a fence (or give no reason)."""
    lines = path.read_text().splitlines()
    stray = []
    for number, line in enumerate(lines, 1):
        if "not-run" not in line or not line.strip().startswith("<!--"):
            continue
        match = _NOT_RUN.match(line.strip())
        following = next((later.strip() for later in lines[number:] if later.strip()), "")
        if not match or not match[1] or not _FENCE.match(following):
            stray.append(number)
    return stray
