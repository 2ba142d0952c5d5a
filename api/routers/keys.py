"""A user's long-lived API keys (utils/auth/api_keys.py): create, list, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.deps import ApiKeysDep, CurrentUser
from api.schemas.keys import KeyCreated, KeyIn, KeyOut
from utils.errors import FieldError, InvalidRequest, NotFound

router = APIRouter(prefix="/keys", tags=["keys"])

KeyId = Annotated[str, Path(max_length=64)]


@router.post("", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
def create_key(
    response: Response, user: CurrentUser, keys: ApiKeysDep, body: KeyIn | None = None
) -> KeyCreated:
    """Make an API key; it is in this response only. Use it as a bearer token wherever one is
    accepted (it is the `api_key` of the openai SDK); it lasts until revoked."""
    try:
        new = keys.create(user.username, body.name if body else None, user.uid)
    except ValueError as exc:  # a name the store refuses: a tab or newline, which JSON allows
        raise InvalidRequest([FieldError(("name",), str(exc))]) from None
    # The one response that carries the key: no cache may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return KeyCreated(
        id=new.id, name=new.name, key=new.key, prefix=new.prefix, created_at=new.created_at
    )


@router.get("", response_model=list[KeyOut])
def list_keys(user: CurrentUser, keys: ApiKeysDep) -> list[KeyOut]:
    return [KeyOut(**key) for key in keys.list(user.username)]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(key_id: KeyId, user: CurrentUser, keys: ApiKeysDep) -> Response:
    """Revoke the key: the next request that brings it is refused."""
    # Someone else's key id is "not found" too: ids of other users' keys are never confirmed.
    if not keys.revoke(user.username, key_id):
        raise NotFound(f"you have no API key {key_id!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
