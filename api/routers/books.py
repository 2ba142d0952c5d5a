"""POST /tts/book: an EPUB made into a chaptered job (api/book_jobs.py does the work).

The book is the body, as sent (Content-Type application/epub+zip, or application/octet-stream)
or as the part named `file` of a multipart form (a browser's file input); the job's options
are query parameters. Its body may be as large as BOOK_MAX_UPLOAD_BYTES (api/body_limit.py).
Reading a book is CPU work: it runs in a thread, never on the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.book_jobs import BookOptions, book_job, check_options, read_upload
from api.deps import (
    CurrentUser,
    LexiconsDep,
    ProvidersDep,
    SettingsDep,
    StorageDep,
    SubmitterDep,
)
from api.rate_limits import rate_limit, user_or_address
from api.routers.jobs import accept
from api.schemas.jobs import JobAccepted
from utils.errors import FieldError, InvalidRequest

BOOK_PATH = "/tts/book"
EPUB_TYPES = ("application/epub+zip", "application/octet-stream")
FORM_TYPE = "multipart/form-data"

router = APIRouter(tags=["jobs"])


async def _epub_bytes(request: Request) -> bytes:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in EPUB_TYPES:
        return await request.body()
    if kind == FORM_TYPE:
        async with request.form(max_files=1, max_fields=0) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                message = "a multipart upload sends the EPUB as the part named `file`"
                raise InvalidRequest([FieldError(("file",), message)])
            return await upload.read()
    allowed = ", ".join((*EPUB_TYPES, FORM_TYPE))
    message = f"{kind or 'none'}; allowed: {allowed}"
    raise InvalidRequest([FieldError(("content-type",), message)])


@router.post(
    BOOK_PATH,
    response_model=JobAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[rate_limit("RATE_LIMIT_SUBMIT", user_or_address)],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/epub+zip": {"schema": {"type": "string", "format": "binary"}},
                FORM_TYPE: {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
async def submit_book(
    request: Request,
    response: Response,
    user: CurrentUser,
    settings: SettingsDep,
    providers: ProvidersDep,
    submitter: SubmitterDep,
    lexicons: LexiconsDep,
    storage: StorageDep,
    provider: Annotated[str | None, Query(max_length=200, description="Every block's.")] = None,
    voice: Annotated[str | None, Query(max_length=200, description="Every block's.")] = None,
    speed: Annotated[float | None, Query(description="Speaking rate, 0.5-2.0.")] = None,
    output_format: Annotated[
        str | None, Query(max_length=100, description="As POST /tts; m4b_* for an audiobook.")
    ] = None,
    pause_ms: Annotated[int, Query(description="Silence after each block, in ms.")] = 600,
    chapter_pause_ms: Annotated[
        int, Query(description="Silence after a chapter's last block, in ms.")
    ] = 2000,
    loudness: Annotated[
        str | None, Query(max_length=40, description="A preset: podcast, audiobook, broadcast.")
    ] = None,
    callback_url: Annotated[
        str | None, Query(max_length=2000, description="As POST /tts's callback_url.")
    ] = None,
) -> JobAccepted:
    """An EPUB read aloud as one job: a chapter per entry of its table of contents (its first
    block carries the chapter mark), long chapters cut into blocks at paragraph ends; the
    file's title, author and album (the title) and cover from the book. A book that is not a
    zip, has no spine, is DRM-protected or expands past BOOK_MAX_EXPANDED_BYTES: 422 naming
    the problem."""
    options = BookOptions(
        provider, voice, speed, output_format, pause_ms, chapter_pause_ms, loudness, callback_url
    )
    owner = user.username
    await run_in_threadpool(check_options, options, owner, settings, providers, lexicons)
    data = await _epub_bytes(request)
    book = await run_in_threadpool(read_upload, data, settings)
    valid = await run_in_threadpool(book_job, book, options, owner, settings, providers, lexicons)
    return await run_in_threadpool(
        accept, valid, request, response, owner, settings, submitter, storage
    )
