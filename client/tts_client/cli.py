"""`tts`: the service from a shell. `tts --help` lists the commands. A command that takes a
job id takes its start too, as `tts jobs` shows it (terminal.py prints; the codes live there).

Exit codes, for scripts:

    0  done
    1  the job failed (or is not finished, for `download`)
    2  a usage error (a job id's start that several jobs share: they are printed), or the
       service refused the request (422: each field is printed)
    3  not logged in, a wrong password or API key
    4  no such job (or not yours, or none whose id starts so), provider or voice
    5  the service cannot be reached, or answered 5xx / 429 after the retries
"""

from __future__ import annotations

import contextlib
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from tts_client import config
from tts_client.errors import AuthError, TTSError
from tts_client.progress import follow
from tts_client.script import script_to_job
from tts_client.sync_client import TTSClient
from tts_client.terminal import (
    JOB_FAILED,
    err_console,
    exit_if_failed,
    handled,
    jobs_view,
    out_console,
    status_view,
    table_of,
)

EXTENSIONS = {"mp3": ".mp3", "wav": ".wav", "pcm": ".pcm", "flac": ".flac", "opus": ".opus"}
EXTENSIONS["aac"] = ".m4a"
EXTENSIONS["m4b"] = ".m4b"
# -o's extension picks the format when --format is not given (.mp3: the server's default).
FORMAT_OF = {
    ".wav": "wav_24000",
    ".flac": "flac_24000",
    ".opus": "opus_24000_32",
    ".ogg": "opus_24000_32",
    ".m4a": "aac_24000_64",
    ".m4b": "m4b_24000_64",
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
JobId = Annotated[
    str, typer.Argument(help="A job id, or its start as `tts jobs` shows it (as git takes ids).")
]


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
    out_console().print(Text(f"Logged in to {url}; the API key is kept in {path}"))


def _revoke_quietly(client: TTSClient, key_id: str) -> None:
    with contextlib.suppress(TTSError):  # already revoked, or not this user's
        client.delete_api_key(key_id)


@app.command()
@handled
def synth(
    script: Annotated[
        str,
        typer.Argument(
            help="A file of text, Markdown, SSML or JSON; - reads stdin; or an EPUB book "
            "(a chaptered audiobook: -o book.m4b)."
        ),
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
    """Speak a script: submit it, show each block's progress, download the audio. An EPUB is
    sent to the service whole, which reads its chapters, title, author and cover: progress is
    shown per chapter."""
    if format is None and output is not None:
        format = FORMAT_OF.get(output.suffix.lower())
    if script.lower().endswith(".epub"):
        options = {"provider": provider, "voice": voice, "speed": speed, "pause_ms": pause}
        _synth_book(Path(script), output, url, output_format=format, **options)
        return
    source = sys.stdin.read() if script == "-" else Path(script).read_text()
    stem = "speech" if script == "-" else Path(script).stem
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
        err = err_console()
        err.print(Text(f"job {job.job_id}"))
        final = follow(client, job.job_id, err)
        exit_if_failed(final, err)
        target = output or Path(stem + _extension(final.output_format))
        client.download(job.job_id, target)
    out_console().print(Text(str(target)))


def _synth_book(book: Path, output: Path | None, url: str | None, **options) -> None:
    with _client(url) as client:
        job = client.submit_book(book, **options)
        err = err_console()
        err.print(Text(f"job {job.job_id}"))
        final = follow(client, job.job_id, err, chapters=True)
        exit_if_failed(final, err)
        target = output or Path(book.stem + _extension(final.output_format))
        client.download(job.job_id, target)
    out_console().print(Text(str(target)))


@app.command()
@handled
def status(
    job_id: JobId,
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON.")] = False,
    url: Url = None,
) -> None:
    """A job's status and its blocks'. Exits 1 when the job failed."""
    with _client(url) as client:
        current = client.status(client.resolve_job_id(job_id))
    out = out_console()
    if as_json:
        out.print_json(current.model_dump_json(exclude_none=True))
    else:
        status_view(current, out)
    if current.status == "failed":
        raise typer.Exit(JOB_FAILED)


@app.command()
@handled
def jobs(
    limit: Annotated[int, typer.Option(help="Jobs per page.")] = 20,
    cursor: Annotated[str | None, typer.Option(help="The next page, as printed.")] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Whole ids (else the shortest that tell these apart).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON.")] = False,
    url: Url = None,
) -> None:
    """Your jobs, newest first."""
    with _client(url) as client:
        page = client.jobs(limit=limit, cursor=cursor)
    out = out_console()
    if as_json:
        out.print_json(page.model_dump_json(exclude_none=True))
    else:
        jobs_view(page, out, full_ids=full)


@app.command()
@handled
def voices(
    provider: Annotated[str | None, typer.Argument(help="Omit for the providers.")] = None,
    url: Url = None,
) -> None:
    """The providers, or one provider's voices."""
    with _client(url) as client:
        if provider is None:
            headers = ("provider", "type", "default voice")
            rows = [(p.name, p.type, p.default_voice) for p in client.providers()]
        else:
            headers = ("voice", "name", "language")
            rows = [(v.id, v.name, v.language) for v in client.voices(provider)]
    out_console().print(table_of(headers, rows))


@app.command()
@handled
def retry(
    job_id: JobId,
    output: Output = None,
    wait: Annotated[bool, typer.Option(help="Follow the job until it finishes.")] = True,
    url: Url = None,
) -> None:
    """Run a failed job's unfinished blocks again (finished ones are reused)."""
    with _client(url) as client:
        job_id = client.resolve_job_id(job_id)
        accepted = client.retry(job_id)
        err = err_console()
        err.print(Text(f"job {job_id}: retrying blocks {accepted.retried_blocks}"))
        if not wait:
            return
        final = follow(client, job_id, err)
        exit_if_failed(final, err)
        if output is not None:
            client.download(job_id, output)
            out_console().print(Text(str(output)))


@app.command()
@handled
def cancel(
    job_id: JobId,
    purge: Annotated[
        bool, typer.Option(help="Also delete its audio (a finished job's too).")
    ] = False,
    url: Url = None,
) -> None:
    """Cancel a queued or processing job: nothing more of it is made (exits 1 when it is
    combining or finished; --purge still deletes a finished job's audio)."""
    with _client(url) as client:
        job_id = client.resolve_job_id(job_id)
        answer = client.cancel(job_id, purge=purge)
    purged = ", its audio deleted" if answer.purged else ""
    out_console().print(Text(f"job {job_id}: {answer.status}{purged}"))


@app.command()
@handled
def download(job_id: JobId, output: Output = None, url: Url = None) -> None:
    """A finished job's audio (exits 1 when the job is not completed)."""
    with _client(url) as client:
        job_id = client.resolve_job_id(job_id)
        if output is None:
            output = Path(job_id + _extension(client.status(job_id).output_format))
        client.download(job_id, output)
    out_console().print(Text(str(output)))


def _extension(output_format: str | None) -> str:
    return EXTENSIONS.get((output_format or "mp3").split("_")[0], ".mp3")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
