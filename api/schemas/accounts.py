"""Bodies of /accounts: a provider account of a user's own (its key is never shown again)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from settings.provider_types import ACCOUNT_NAME_PATTERN, AccountType


class AccountIn(BaseModel):
    """A provider account of your own: your key, your server, your limit."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=ACCOUNT_NAME_PATTERN,
        description="How your blocks name it (as their provider); 1-64 of A-Z a-z 0-9 _ . -",
    )
    type: AccountType = Field(description="The provider's API.")
    api_key: SecretStr = Field(description="Stored encrypted; never shown again.")
    base_url: str | None = Field(default=None, description="Another server speaking that API.")
    app_id: str | None = Field(default=None, description="Volcano Engine: the app's id.")
    cluster: str | None = Field(default=None, description="Volcano Engine: the cluster.")
    model: str | None = None
    default_voice: str | None = None
    voices: list[str] | None = Field(
        default=None, description="Voices offered, where the API cannot list them."
    )
    concurrency: int = Field(
        default=4, ge=1, le=1000, description="Requests the account allows in flight."
    )
    timeout_s: float = Field(default=60.0, gt=0, le=600)


class AccountOut(BaseModel):
    name: str
    type: str
    base_url: str | None = None
    app_id: str | None = None
    cluster: str | None = None
    model: str | None = None
    default_voice: str | None = None
    voices: list[str] | None = None
    concurrency: int | None = None
    timeout_s: float
    has_api_key: bool
    created_at: str
