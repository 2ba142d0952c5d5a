"""Errors of the /v1/ routes in OpenAI's shape, so the openai SDK raises its own typed errors.

`{"error": {"message", "type", "param", "code"}}` with OpenAI's status codes: a request the
service refuses is 400 (BadRequestError) where the rest of the API says 422, 401 is
AuthenticationError, 429 RateLimitError (the SDK honours Retry-After), 5xx InternalServerError.
api/errors.py renders every error once; for these routes it hands the body to `openai_body`.
"""

from __future__ import annotations

from typing import Any

PREFIX = "/v1/"

# (type, code) OpenAI gives for each status
_KINDS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "forbidden"),
    404: ("invalid_request_error", "not_found"),
    409: ("invalid_request_error", "conflict"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("requests", "rate_limit_exceeded"),
}


def is_openai_path(path: str) -> bool:
    return path.startswith(PREFIX)


def openai_status(status_code: int) -> int:
    return 400 if status_code == 422 else status_code


def openai_body(status_code: int, content: Any) -> dict:
    """Our error body (`{"detail": str | [problems]}`) said the way OpenAI says it."""
    detail = content.get("detail") if isinstance(content, dict) else content
    param = None
    if isinstance(detail, list):
        # field problems (api/errors.py): every message, the first field as `param`
        param = detail[0].get("field") if detail and isinstance(detail[0], dict) else None
        message = "; ".join(p.get("msg", str(p)) if isinstance(p, dict) else str(p) for p in detail)
    else:
        message = str(detail) if detail is not None else "error"
    kind, code = _KINDS.get(openai_status(status_code), ("server_error", None))
    if status_code >= 500 and isinstance(content, dict) and content.get("request_id"):
        message = f"{message} (request id {content['request_id']})"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
