"""The `tts` command's live view of a job: one bar counting finished blocks, with the time
left as Rich estimates it from the blocks done so far, and a line for each block as it
finishes or fails. On a terminal the bar redraws in place; elsewhere (a pipe, a log) Rich
prints it once at the end, and the block lines are plain text. A book's job (chapters=True)
gets a line per chapter instead, once all of its blocks are made: a block that opens a chapter
says so (its `chapter`), and the blocks after it, up to the next one, are that chapter's."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from tts_client.models import JobStatus

FINAL_BLOCK = ("completed", "failed", "skipped")


def follow(client, job_id: str, console: Console, chapters: bool = False) -> JobStatus:
    """Wait for the job (client.wait: its event feed, or polling), showing its progress: a
    line per block, or per chapter."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("blocks"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("queued", total=None)
        told: dict[int, str] = {}
        shown: set[int] = set()

        def show(status: JobStatus) -> None:
            bar.update(task, completed=status.done, total=status.total, description=status.status)
            if chapters:
                for n, line in chapter_lines(status):
                    if n not in shown:
                        shown.add(n)
                        bar.console.print(line)
                return
            for block in status.blocks:
                if block.status in FINAL_BLOCK and told.get(block.index) != block.status:
                    told[block.index] = block.status
                    bar.console.print(_block_line(block, status.total))

        final = client.wait(job_id, progress=show)
        show(final)
    return final


def chapter_lines(status: JobStatus) -> list[tuple[int, Text]]:
    """(chapter number, its line) for each chapter whose blocks are all made or failed."""
    groups: list[tuple[str, list]] = []
    for block in sorted(status.blocks, key=lambda b: b.index):
        if block.chapter is not None or not groups:
            groups.append((block.chapter or "(before the first chapter)", []))
        groups[-1][1].append(block)
    lines = []
    for n, (title, blocks) in enumerate(groups, 1):
        if not all(b.status in FINAL_BLOCK for b in blocks):
            continue
        name = f"chapter {n} of {len(groups)}: {title}"
        failed = [b for b in blocks if b.status != "completed"]
        if failed:
            reason = failed[0].error or failed[0].status
            line = Text.assemble(("failed", "red"), f"  {name}: block {failed[0].index}: {reason}")
        else:
            seconds = sum(b.duration_ms or 0 for b in blocks) / 1000
            count = f"{len(blocks)} block{'s' * (len(blocks) > 1)}"
            line = Text.assemble(("done", "green"), f"    {name} ({count}, {seconds:.1f} s)")
        lines.append((n, line))
    return lines


def _block_line(block, total: int) -> Text:
    # numbered from 0, as the API's messages number them (blocks[2].voice, "block 2: ...")
    name = f"block {block.index} of {total}" + (f" ({block.id})" if block.id else "")
    # Text, not markup: a block's id and error are the service's words, brackets and all.
    if block.status == "completed":
        seconds = f" {block.duration_ms / 1000:.1f} s" if block.duration_ms else ""
        cached = ", cached" if block.cached else ""
        return Text.assemble(("done", "green"), f"    {name}{seconds}{cached}")
    if block.status == "failed":
        return Text.assemble(("failed", "red"), f"  {name}: {block.error or 'no reason given'}")
    return Text.assemble(("skipped", "yellow"), f" {name}")
