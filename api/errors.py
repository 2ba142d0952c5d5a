"""The one place where the service's exceptions become HTTP responses.

422 bodies keep FastAPI's shape (`detail` is a list of `{loc, msg, type}`) and add `field`, a
readable name such as `blocks[2].voice`; messages name the allowed values. An unexpected error
answers 500 with a request id and a generic message; the details go to the log only.
"""

from __future__ import annotations

import logging
import uuid

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from utils.errors import (
    ConfigurationError,
    FieldError,
    InvalidRequest,
    NotFound,
    NotReady,
    RateLimited,
    ServiceError,
    StorageError,
    Unavailable,
)

log = logging.getLogger("api")


def _field_errors_response(errors: list[FieldError], loc_root: str = "body") -> JSONResponse:
    detail = [
        {
            "loc": [loc_root, *e.loc],
            "field": e.field,
            "msg": f"{e.field}: {e.message}",
            "type": "value_error",
        }
        for e in errors
    ]
    return JSONResponse(status_code=422, content={"detail": detail})


def _from_pydantic(error: dict) -> FieldError:
    loc = tuple(error.get("loc", ()))
    root = loc[0] if loc else "body"
    loc = loc[1:] if root in ("body", "path", "query", "header") else loc
    message = error.get("msg", "invalid value")
    if error.get("type") == "extra_forbidden":
        message = "is not a known field"
    return FieldError(loc or (str(root),), message)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _field_errors_response([_from_pydantic(e) for e in exc.errors()])

    @app.exception_handler(InvalidRequest)
    async def _invalid(request: Request, exc: InvalidRequest) -> JSONResponse:
        return _field_errors_response(exc.errors)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(NotReady)
    async def _not_ready(request: Request, exc: NotReady) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc), "status": exc.status})

    @app.exception_handler(Unavailable)
    async def _unavailable(request: Request, exc: Unavailable) -> JSONResponse:
        return JSONResponse(
            status_code=503, content={"detail": str(exc)}, headers={"Retry-After": "5"}
        )

    @app.exception_handler(RateLimited)
    async def _rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
        return JSONResponse(
            status_code=429,
            content={"detail": str(exc)},
            headers={"Retry-After": str(exc.retry_after_s)},
        )

    @app.exception_handler(redis.RedisError)
    async def _redis_down(request: Request, exc: redis.RedisError) -> JSONResponse:
        log.warning("redis unavailable: %s", type(exc).__name__)
        return JSONResponse(
            status_code=503,
            content={"detail": "job store unavailable, try again shortly"},
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        if isinstance(exc, StorageError | ConfigurationError):
            return _internal(exc)
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _internal(exc)


def _internal(exc: BaseException) -> JSONResponse:
    request_id = uuid.uuid4().hex
    log.error("request %s failed", request_id, exc_info=exc)
    return JSONResponse(
        status_code=500,
        content={"detail": "internal error", "request_id": request_id},
    )
