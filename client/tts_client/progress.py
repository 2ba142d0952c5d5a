"""The `tts` command's live view of a job: one bar counting finished blocks, with the time
left as Rich estimates it from the blocks done so far, and a line for each block as it
finishes or fails. On a terminal the bar redraws in place; elsewhere (a pipe, a log) Rich
prints it once at the end, and the block lines are plain text."""

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


def follow(client, job_id: str, console: Console) -> JobStatus:
    """Wait for the job (client.wait: its event feed, or polling), showing its progress."""
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

        def show(status: JobStatus) -> None:
            bar.update(task, completed=status.done, total=status.total, description=status.status)
            for block in status.blocks:
                if block.status in FINAL_BLOCK and told.get(block.index) != block.status:
                    told[block.index] = block.status
                    bar.console.print(_block_line(block, status.total))

        final = client.wait(job_id, progress=show)
        show(final)
    return final


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
