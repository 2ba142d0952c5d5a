"""`tts`: the service from a shell. `tts --help` lists the commands.

Exit codes, for scripts:

    0  done
    1  the job failed (or is not finished, for `download`)
    2  a usage error, or the service refused the request (422: each field is printed)
    3  not logged in, a wrong password or API key
    4  no such job (or not yours), provider or voice
    5  the service cannot be reached, or answered 5xx / 429 after the retries
"""

from __future__ import annotations

import contextlib
import functools
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tts_client import config
from tts_client.errors import (
    AuthError,
    Conflict,
    NotFound,
    RateLimited,
    ServerError,
    TTSError,
    Unreachable,
    ValidationError,
)
from tts_client.progress import follow
from tts_client.script import script_to_job
from tts_client.sync_client import TTSClient

OK, JOB_FAILED, USAGE, AUTH, NOT_FOUND, UNAVAILABLE = range(6)
EXTENSIONS = {"mp3": ".mp3", "wav": ".wav", "pcm": ".pcm", "flac": ".flac", "opus": ".opus"}
EXTENSIONS["aac"] = ".m4a"
# -o's extension picks the format when --format is not given (.mp3: the server's default).
FORMAT_OF = {
    ".wav": "wav_24000",
    ".flac": "flac_24000",
    ".opus": "opus_24000_32",
    ".ogg": "opus_24000_32",
    ".m4a": "aac_24000_64",
    ".pcm": "pcm_24000",
}

app = typer.Typer(
    help="Text to speech from the command line: `tts login`, then `tts synth script.md`.",
    no_args_is_help=True,
    add_completion=False,
    epilog="Exit codes: 0 done, 1 job failed, 2 usage or refused request (422), 3 login, "
    "4 not found, 5 service unreachable or failing.",
)
Url = Annotated[str | None, typer.Option(help="The service (else TTS_URL, else `tts login`'s).")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Where to write the audio.")]


def _err() -> Console:
    return Console(stderr=True, highlight=False)


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def handled(command):
    """The command's errors as a message on stderr and the exit code scripts can rely on."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        err = _err()
        try:
            return command(*args, **kwargs)
        except ValidationError as exc:
            err.print("[red]error:[/] the service refused the request:")
            for problem in exc.problems:
                err.print(f"  {problem.msg}", markup=False)
            code = USAGE
        except AuthError as exc:
            err.print(f"[red]error:[/] {exc.message} (log in with `tts login`)")
            code = AUTH
        except NotFound as exc:
            err.print(f"[red]error:[/] {exc.message}", markup=False)
            code = NOT_FOUND
        except (Unreachable, ServerError, RateLimited) as exc:
            err.print(f"[red]error:[/] {exc.message}", markup=False)
            code = UNAVAILABLE
        except Conflict as exc:
            err.print(f"[red]error:[/] {exc.message}", markup=False)
            code = JOB_FAILED
        except (TTSError, ValueError, OSError) as exc:
            err.print(f"[red]error:[/] {exc}", markup=False)
            code = USAGE
        raise typer.Exit(code)

    return run


def _client(url: str | None) -> TTSClient:
    login = config.current(url)
    if not login.api_key:
        raise AuthError(f"no API key for {login.url}: set TTS_API_KEY")
    return TTSClient(login.url, api_key=login.api_key)


@app.command()
@handled
def login(
    url: Annotated[str, typer.Option(prompt="Service URL")] = config.DEFAULT_URL,
    api_key: Annotated[str | None, typer.Option(help="An API key (tts_sk_...).")] = None,
    username: Annotated[str | None, typer.Option(help="Else a username and password.")] = None,
    password: Annotated[str | None, typer.Option(help="Asked for when not given.")] = None,
) -> None:
    """Log in and keep the login: an API key, or one made for this command from a username and
    password (the password itself is never stored)."""
    url = url.rstrip("/")
    stored = config.load()
    if api_key:
        with TTSClient(url, api_key=api_key) as client:
            client.jobs(limit=1)  # checks the key
        saved = {"url": url, "api_key": api_key}
    else:
        username = username or typer.prompt("Username")
        password = password or typer.prompt("Password", hide_input=True)
        with TTSClient(url, username=username, password=password) as client:
            key = client.create_api_key(f"tts command on {socket.gethostname()}"[:64])
            if stored.get("key_id") and stored.get("url") == url:
                _revoke_quietly(client, stored["key_id"])  # the key of the previous login
        saved = {"url": url, "api_key": key["key"], "key_id": key["id"], "username": username}
    path = config.save(saved)
    _out().print(f"Logged in to {url}; the API key is kept in {path}", markup=False)


def _revoke_quietly(client: TTSClient, key_id: str) -> None:
    with contextlib.suppress(TTSError):  # already revoked, or not this user's
        client.delete_api_key(key_id)


@app.command()
@handled
def synth(
    script: Annotated[
        str, typer.Argument(help="A file of text, Markdown, SSML or JSON; - reads stdin.")
    ],
    output: Output = None,
    provider: Annotated[str | None, typer.Option(help="See `tts voices`.")] = None,
    voice: Annotated[str | None, typer.Option(help="See `tts voices PROVIDER`.")] = None,
    pause: Annotated[int, typer.Option(help="Silence between paragraphs, ms.")] = 500,
    speed: Annotated[float | None, typer.Option(help="Speaking rate, 0.5-2.0.")] = None,
    format: Annotated[
        str | None, typer.Option("--format", help="output_format, e.g. mp3_44100_128, wav_24000.")
    ] = None,  # noqa: E501
    url: Url = None,
) -> None:
    """Speak a script: submit it, show each block's progress, download the audio."""
    source = sys.stdin.read() if script == "-" else Path(script).read_text()
    stem = "speech" if script == "-" else Path(script).stem
    if format is None and output is not None:
        format = FORMAT_OF.get(output.suffix.lower())
    with _client(url) as client:
        kind = "markdown" if script.lower().endswith((".md", ".markdown")) else None
        body = script_to_job(
            source,
            name=script,
            provider=provider,
            voice=voice,
            speed=speed,
            pause_ms=pause,
            output_format=format,
            chapter_kind=client.block_field("chapter") if kind or "#" in source else None,
        )
        job = client.submit(job=body)
        err = _err()
        err.print(f"job {job.job_id}", markup=False)
        final = follow(client, job.job_id, err)
        _exit_if_failed(final, err)
        target = output or Path(stem + _extension(final.output_format))
        client.download(job.job_id, target)
    _out().print(str(target), markup=False)


@app.command()
@handled
def status(
    job_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON.")] = False,
    url: Url = None,
) -> None:
    """A job's status and its blocks'. Exits 1 when the job failed."""
    with _client(url) as client:
        current = client.status(job_id)
    out = _out()
    if as_json:
        out.print_json(current.model_dump_json(exclude_none=True))
    else:
        out.print(f"{current.job_id}  {current.status}  {current.progress} blocks", markup=False)
        table = Table("block", "status", "provider", "voice", "seconds", "error")
        for b in current.blocks:
            seconds = f"{b.duration_ms / 1000:.1f}" if b.duration_ms else ""
            row = (str(b.index), b.status, b.provider, b.voice, seconds, b.error or "")
            table.add_row(*(str(cell or "") for cell in row))
        out.print(table)
        if current.error:
            out.print(f"error: {current.error}", markup=False)
    if current.status == "failed":
        raise typer.Exit(JOB_FAILED)


@app.command()
@handled
def jobs(
    limit: Annotated[int, typer.Option(help="Jobs per page.")] = 20,
    cursor: Annotated[str | None, typer.Option(help="The next page, as printed.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON.")] = False,
    url: Url = None,
) -> None:
    """Your jobs, newest first."""
    with _client(url) as client:
        page = client.jobs(limit=limit, cursor=cursor)
    out = _out()
    if as_json:
        out.print_json(page.model_dump_json(exclude_none=True))
        return
    table = Table("job", "status", "blocks", "format", "created")
    for j in page.jobs:
        table.add_row(j.job_id, j.status, j.progress, j.output_format, j.created_at)
    out.print(table)
    if page.next_cursor:
        out.print(f"more: tts jobs --cursor {page.next_cursor}", markup=False)


@app.command()
@handled
def voices(
    provider: Annotated[str | None, typer.Argument(help="Omit for the providers.")] = None,
    url: Url = None,
) -> None:
    """The providers, or one provider's voices."""
    with _client(url) as client:
        if provider is None:
            table = Table("provider", "type", "default voice")
            for p in client.providers():
                table.add_row(p.name, p.type, p.default_voice or "")
        else:
            table = Table("voice", "name", "language")
            for v in client.voices(provider):
                table.add_row(v.id, v.name, v.language or "")
    _out().print(table)


@app.command()
@handled
def retry(
    job_id: str,
    output: Output = None,
    wait: Annotated[bool, typer.Option(help="Follow the job until it finishes.")] = True,
    url: Url = None,
) -> None:
    """Run a failed job's unfinished blocks again (finished ones are reused)."""
    with _client(url) as client:
        accepted = client.retry(job_id)
        err = _err()
        err.print(f"job {job_id}: retrying blocks {accepted.retried_blocks}", markup=False)
        if not wait:
            return
        final = follow(client, job_id, err)
        _exit_if_failed(final, err)
        if output is not None:
            client.download(job_id, output)
            _out().print(str(output), markup=False)


@app.command()
@handled
def download(job_id: str, output: Output = None, url: Url = None) -> None:
    """A finished job's audio (exits 1 when the job is not completed)."""
    with _client(url) as client:
        if output is None:
            output = Path(job_id + _extension(client.status(job_id).output_format))
        client.download(job_id, output)
    _out().print(str(output), markup=False)


def _exit_if_failed(final, err: Console) -> None:
    if final.status == "failed":
        err.print(f"[red]job failed:[/] {final.error or 'no reason given'}")
        raise typer.Exit(JOB_FAILED)


def _extension(output_format: str | None) -> str:
    return EXTENSIONS.get((output_format or "mp3").split("_")[0], ".mp3")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
