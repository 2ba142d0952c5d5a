"""The one place where the service's exceptions become HTTP responses.

422 bodies keep FastAPI's shape (`detail` is a list of `{loc, msg, type}`) and add `field`, a
readable name such as `blocks[2].voice`; `loc` starts where the value came from (body, path,
query, header) and messages name the allowed values or the expected type. An unexpected error
answers 500 with a request id and a generic message; the details go to the log only.

Every body's strings pass through `_printable`, which writes lone surrogates out as text: a
message may quote a name the client sent, and a surrogate it escaped in JSON ("\\ud800")
cannot be encoded as UTF-8, which would turn any error into a 500.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from api.speech.errors import is_openai_path, openai_body, openai_status
from utils.errors import (
    ConfigurationError,
    FieldError,
    InvalidRequest,
    LimitReached,
    NotFound,
    NotReady,
    RateLimited,
    ServiceError,
    StorageError,
    SynthesisFailed,
    SynthesisTimedOut,
    Unavailable,
)
from utils.logs import current_fields

log = logging.getLogger("api")

ROOTS = ("body", "path", "query", "header", "cookie")

# Pydantic's type errors, said as the JSON a client should have sent.
EXPECTED = {
    "int_type": "an integer",
    "float_type": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def _printable(value: Any) -> Any:
    """`value` with every lone surrogate written out as text (\\ud800), in strings at any depth."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(v) for v in value]
    return value


def _json(
    request: Request, status_code: int, content: Any, headers: dict[str, str] | None = None
) -> JSONResponse:
    if is_openai_path(request.url.path):
        status_code, content = openai_status(status_code), openai_body(status_code, content)
    return JSONResponse(status_code=status_code, content=_printable(content), headers=headers)


def _json_type(value: Any) -> str:
    """What the client sent, said as JSON; a string is not quoted back (it may be a secret)."""
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _problem(root: str, loc: tuple, message: str, kind: str = "value_error") -> dict:
    field = FieldError(loc, message).field if loc else root
    return {"loc": [root, *loc], "field": field, "msg": f"{field}: {message}", "type": kind}


def _field_errors_response(request: Request, problems: list[dict]) -> JSONResponse:
    return _json(request, 422, {"detail": problems})


def _not_json(content_type: str | None) -> str:
    """Why a body was not read as JSON: FastAPI reads one only when its Content-Type says so."""
    message = "must be JSON, sent with the header `Content-Type: application/json`"
    if not content_type:
        return f"{message}; this request has no Content-Type"
    message += f"; this request's Content-Type is {content_type}"
    if content_type.startswith("application/x-www-form-urlencoded"):
        # what curl -d sends unless told otherwise: the most common way to get here
        message += " (what curl -d sends: add -H 'Content-Type: application/json', or use --json)"
    return message


# What FastAPI's body reading raises (as a 400's cause) before JSON syntax is even checked.
UNREADABLE_BODY = (UnicodeDecodeError, RecursionError)


def _unreadable(cause: BaseException) -> dict:
    if isinstance(cause, UnicodeDecodeError):
        reason = f"is not UTF-8 text (byte {cause.start})"
    else:
        reason = "nests lists or objects too deeply"
    return _problem("body", (), f"invalid JSON: the body {reason}", "json_invalid")


def _from_pydantic(error: dict, content_type: str | None = None) -> dict:
    loc = tuple(error.get("loc", ()))
    root, loc = (loc[0], loc[1:]) if loc and loc[0] in ROOTS else ("body", loc)
    kind = error.get("type", "value_error")
    message = error.get("msg", "invalid value")
    if root == "body" and not loc and isinstance(error.get("input"), bytes):
        # the body as bytes: it was not read as JSON, whatever it holds
        return _problem("body", (), _not_json(content_type), "content_type")
    if kind == "json_invalid":
        # FastAPI puts the position where a field name goes; it is the body that is broken.
        at = loc[0] if loc and isinstance(loc[0], int) else None
        reason = error.get("ctx", {}).get("error", "not valid JSON")
        where = f" at character {at}" if at is not None else ""
        return _problem("body", (), f"invalid JSON{where}: {reason}", kind)
    if kind == "extra_forbidden":
        hint = error.get("ctx", {}).get("hint")
        message = "is not a known field" + (f"; {hint}" if hint else "")
    elif kind == "string_unicode":  # a key pydantic cannot read; values are RequestStr's
        message = "has a field name that is not valid UTF-8 (half of a surrogate pair)"
    elif kind in EXPECTED and root == "body":
        message = f"must be {EXPECTED[kind]}, got {_json_type(error.get('input'))}"
    return _problem(root, loc, message, kind)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        content_type = request.headers.get("content-type")
        problems = [_from_pydantic(e, content_type) for e in exc.errors()]
        return _field_errors_response(request, problems)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if is_openai_path(request.url.path):
            return _json(request, exc.status_code, {"detail": exc.detail}, exc.headers)
        if exc.status_code == 400 and isinstance(exc.__cause__, UNREADABLE_BODY):
            # FastAPI's 400 "error parsing the body" for JSON that json.loads cannot even
            # start on: said in the 422 shape every other broken body gets.
            return _field_errors_response(request, [_unreadable(exc.__cause__)])
        exc.detail = _printable(exc.detail)
        return await http_exception_handler(request, exc)

    @app.exception_handler(InvalidRequest)
    async def _invalid(request: Request, exc: InvalidRequest) -> JSONResponse:
        problems = [_problem("body", e.loc, e.message) for e in exc.errors]
        return _field_errors_response(request, problems)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return _json(request, 404, {"detail": str(exc)})

    @app.exception_handler(NotReady)
    async def _not_ready(request: Request, exc: NotReady) -> JSONResponse:
        return _json(request, 409, {"detail": str(exc), "status": exc.status})

    @app.exception_handler(LimitReached)
    async def _limit_reached(request: Request, exc: LimitReached) -> JSONResponse:
        return _json(request, 409, {"detail": str(exc)})

    @app.exception_handler(Unavailable)
    async def _unavailable(request: Request, exc: Unavailable) -> JSONResponse:
        return _json(request, 503, {"detail": str(exc)}, {"Retry-After": "5"})

    @app.exception_handler(RateLimited)
    async def _rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
        return _json(request, 429, {"detail": str(exc)}, {"Retry-After": str(exc.retry_after_s)})

    @app.exception_handler(redis.RedisError)
    async def _redis_down(request: Request, exc: redis.RedisError) -> JSONResponse:
        log.warning("redis unavailable: %s", type(exc).__name__)
        return _json(
            request,
            503,
            {"detail": "job store unavailable, try again shortly"},
            {"Retry-After": "5"},
        )

    @app.exception_handler(StorageError)
    async def _storage_down(request: Request, exc: StorageError) -> JSONResponse:
        # A remote store (S3, Cloudinary) not answering is an outage, not a bug. The message
        # names the key and the store's error code, never a credential: it goes to the log.
        log.warning("storage unavailable: %s", exc)
        return _json(
            request,
            503,
            {"detail": "audio storage unavailable, try again shortly"},
            {"Retry-After": "5"},
        )

    @app.exception_handler(SynthesisTimedOut)
    async def _synthesis_timed_out(request: Request, exc: SynthesisTimedOut) -> JSONResponse:
        return _json(request, 504, {"detail": str(exc)}, {"Retry-After": "5"})

    @app.exception_handler(SynthesisFailed)
    async def _synthesis_failed(request: Request, exc: SynthesisFailed) -> JSONResponse:
        return _json(request, 502, {"detail": str(exc)})

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        if isinstance(exc, StorageError | ConfigurationError):
            return _internal(request, exc)
        return _json(request, 400, {"detail": str(exc)})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _internal(request, exc)


def _internal(request: Request, exc: BaseException) -> JSONResponse:
    # the request's own id (api/request_context.py): the one in X-Request-ID and on its lines
    request_id = current_fields().get("request_id") or uuid.uuid4().hex
    log.error("request %s failed", request_id, exc_info=exc)
    return _json(request, 500, {"detail": "internal error", "request_id": request_id})
