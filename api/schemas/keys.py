"""Request and response bodies of /keys: a key is in a response once, when it is made."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import RequestStr
from utils.auth.api_keys import MAX_NAME_CHARS


class KeyIn(BaseModel):
    # Strict, as every request body of api/schemas/.
    model_config = ConfigDict(extra="forbid", strict=True)

    name: RequestStr | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="Your own label for the key, e.g. where it is used.",
    )


class KeyOut(BaseModel):
    id: str = Field(description="Revoke it with DELETE /keys/{id}.")
    name: str | None = None
    prefix: str = Field(description="The key's first characters, to tell it apart.")
    created_at: str
    last_used_at: str | None = Field(
        default=None, description="Updated at most once a minute, not on every request."
    )


class KeyCreated(BaseModel):
    id: str
    name: str | None = None
    key: str = Field(
        description="The key itself, shown this once: it is stored hashed and cannot be shown "
        "again. Send it as `Authorization: Bearer <key>`."
    )
    prefix: str
    created_at: str
