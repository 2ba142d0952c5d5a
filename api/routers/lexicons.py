"""A user's pronunciation lexicons (utils/lexicons/): upload, list, read, delete.

POST /lexicons takes JSON rules, or a W3C PLS 1.0 document (Content-Type application/pls+xml,
application/xml or text/xml, its name in ?name=); saving under a name already used replaces
that lexicon, with a new version. Jobs and speech requests name lexicons in `lexicons`, SSML
in <lexicon uri> and <lookup ref>.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from api.deps import CurrentUser, LexiconsDep, SettingsDep
from api.schemas.lexicons import LexiconList, LexiconOut, LexiconSummary
from utils.errors import FieldError, InvalidRequest, NotFound
from utils.lexicons.pls import Lexicon, LexiconError, from_json, from_pls, to_pls
from utils.lexicons.store import Stored, operator_lexicons

router = APIRouter(prefix="/lexicons", tags=["lexicons"])

XML_TYPES = ("application/pls+xml", "application/xml", "text/xml")
Name = Annotated[str, Path(max_length=64)]


def _refused(exc: LexiconError) -> InvalidRequest:
    return InvalidRequest([FieldError(tuple(exc.field.split(".")), exc.message)])


def _out(stored: Stored) -> LexiconOut:
    return LexiconOut(**stored.summary() | {"rules": [rule.as_json() for rule in stored.rules]})


@router.post(
    "",
    response_model=LexiconSummary,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/LexiconIn"}},
                **{t: {"schema": {"type": "string"}} for t in XML_TYPES},
            }
        }
    },
)
async def save_lexicon(
    request: Request,
    response: Response,
    user: CurrentUser,
    store: LexiconsDep,
    settings: SettingsDep,
    name: Annotated[str | None, Query(description="The lexicon's name, for a PLS upload.")] = None,
) -> LexiconSummary:
    """Save a lexicon of yours (replacing one of the same name): JSON rules or a PLS document."""
    limit = settings.lexicons.max_bytes
    body = await request.body()
    if len(body) > limit:
        message = f"at most {limit} bytes (LEXICON_MAX_BYTES), got {len(body)}"
        raise InvalidRequest([FieldError(("body",), message)])
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    try:
        if kind in XML_TYPES:
            if not name:
                raise LexiconError("name", "a PLS upload names its lexicon in ?name=")
            lexicon = from_pls(name, body)
        elif kind == "application/json":
            try:
                data = json.loads(body)
            except ValueError:
                raise LexiconError("body", "not JSON") from None
            if not isinstance(data, dict):
                raise LexiconError("body", 'a JSON object: {"name", "language", "rules"}')
            unknown = set(data) - {"name", "language", "rules"}
            if unknown:
                raise LexiconError(
                    sorted(unknown)[0], "unknown field; allowed: name, language, rules"
                )
            lexicon = from_json(
                data.get("name", name or ""), data.get("language", "en-US"), data.get("rules")
            )
        else:
            allowed = ", ".join(("application/json", *XML_TYPES))
            raise LexiconError("content-type", f"{kind!r}; allowed: {allowed}")
        stored = store.save(user.username, lexicon, len(body))
    except LexiconError as exc:
        raise _refused(exc) from None
    response.headers["Location"] = f"/lexicons/{stored.name}"
    return LexiconSummary(**stored.summary())


@router.get("", response_model=LexiconList)
def list_lexicons(user: CurrentUser, store: LexiconsDep, settings: SettingsDep) -> LexiconList:
    """Your lexicons, and the operator's (applied to every request)."""
    return LexiconList(
        lexicons=[LexiconSummary(**s.summary()) for s in store.list(user.username)],
        operator=[
            LexiconSummary(**s.summary()) for s in operator_lexicons(settings.lexicons.files)
        ],
    )


@router.get(
    "/{name}",
    response_model=LexiconOut,
    response_model_exclude_none=True,
    responses={200: {"content": {"application/pls+xml": {}}}},
)
def get_lexicon(
    name: Name,
    user: CurrentUser,
    store: LexiconsDep,
    format: Annotated[str, Query(pattern="^(json|pls)$")] = "json",
):
    """A lexicon of yours with its rules; ?format=pls as a PLS 1.0 document."""
    stored = store.get(user.username, name)
    if stored is None:
        raise NotFound(f"you have no lexicon {name!r}")
    if format == "pls":
        document = to_pls(Lexicon(stored.name, stored.language, list(stored.rules)))
        return Response(document, media_type="application/pls+xml")
    return _out(stored)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_lexicon(name: Name, user: CurrentUser, store: LexiconsDep) -> Response:
    """Delete a lexicon of yours: requests naming it afterwards are refused."""
    if not store.delete(user.username, name):
        raise NotFound(f"you have no lexicon {name!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
