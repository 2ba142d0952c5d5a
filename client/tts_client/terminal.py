"""What the `tts` command prints: its errors with the exit codes scripts rely on (cli.py's
docstring lists them), and its tables.

Everything that comes from the service or the user (messages, ids, errors of blocks) is
printed as rich Text, never as markup: a message quoting `blocks[2]` or `[red]` must reach
the reader as it is. Styles are given as Text styles, so Rich shows them on a terminal and
leaves plain text in a pipe or a log.
"""

from __future__ import annotations

import functools

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tts_client import _job_ids
from tts_client.errors import (
    AmbiguousJobId,
    AuthError,
    Conflict,
    NotFound,
    RateLimited,
    ServerError,
    TTSError,
    Unreachable,
    ValidationError,
)
from tts_client.models import JobPage, JobStatus

OK, JOB_FAILED, USAGE, AUTH, NOT_FOUND, UNAVAILABLE = range(6)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def out_console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def error(message: str, label: str = "error:") -> Text:
    return Text.assemble((label, "bold red"), " ", message)


def handled(command):
    """The command's errors as a message on stderr and the exit code scripts can rely on."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        err = err_console()
        try:
            return command(*args, **kwargs)
        except ValidationError as exc:
            err.print(error("the service refused the request:"))
            for problem in exc.problems:
                err.print(Text(f"  {problem.msg}"))
            code = USAGE
        except AuthError as exc:
            err.print(error(f"{exc.message} (log in with `tts login`)"))
            code = AUTH
        except AmbiguousJobId as exc:
            err.print(error(f"job id {exc.start!r} is ambiguous; the candidates are:"))
            for job in exc.candidates:
                err.print(Text(f"  {job.job_id}  {job.status}  {job.created_at}"))
            code = USAGE
        except NotFound as exc:
            err.print(error(exc.message))
            code = NOT_FOUND
        except (Unreachable, ServerError, RateLimited) as exc:
            err.print(error(exc.message))
            code = UNAVAILABLE
        except Conflict as exc:
            err.print(error(exc.message))
            code = JOB_FAILED
        except (TTSError, ValueError, OSError) as exc:
            err.print(error(str(exc)))
            code = USAGE
        raise typer.Exit(code)

    return run


def exit_if_failed(final: JobStatus, err: Console) -> None:
    if final.status == "failed":
        err.print(error(final.error or "no reason given", label="job failed:"))
        raise typer.Exit(JOB_FAILED)
    if final.status == "cancelled":
        err.print(error("cancelled before it was made", label="job cancelled:"))
        raise typer.Exit(JOB_FAILED)


def table_of(headers: tuple[str, ...], rows) -> Table:
    """A table of the cells as they are (None: empty)."""
    table = Table(*headers)
    for row in rows:
        table.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    return table


def status_view(current: JobStatus, out: Console) -> None:
    out.print(Text(f"{current.job_id}  {current.status}  {current.progress} blocks"))
    headers = ("block", "status", "provider", "voice", "seconds", "error")
    rows = []
    for b in current.blocks:
        seconds = f"{b.duration_ms / 1000:.1f}" if b.duration_ms else None
        rows.append((b.index, b.status, b.provider, b.voice, seconds, b.error))
    out.print(table_of(headers, rows))
    if current.error:
        out.print(Text(f"error: {current.error}"))


def jobs_view(page: JobPage, out: Console, full_ids: bool = False) -> None:
    """The page as a table. Ids are cut to the length that tells those shown apart, which
    every command taking a job id accepts; never cut further by a narrow terminal."""
    ids = [j.job_id for j in page.jobs]
    shown = ids if full_ids else _job_ids.short_ids(ids)
    table = Table()
    table.add_column("job", no_wrap=True, min_width=max(map(len, shown), default=3))
    table.add_column("status", no_wrap=True, min_width=len("cancelled"))
    for name in ("blocks", "format", "created"):
        table.add_column(name)
    # what was said gives way first on a narrow terminal
    table.add_column("title or first words", max_width=40, no_wrap=True, overflow="ellipsis")
    for job, short in zip(page.jobs, shown, strict=True):
        what = job.title or job.preview or ""
        cells = (short, job.status, job.progress, job.output_format, job.created_at, what)
        table.add_row(*map(Text, cells))
    out.print(table)
    if page.next_cursor:
        out.print(Text(f"more: tts jobs --cursor {page.next_cursor}"))
