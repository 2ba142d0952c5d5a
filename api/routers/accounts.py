"""A user's own provider accounts (utils/accounts/user_accounts.py): register, list, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from pydantic import ValidationError

from api.deps import AccountsDep, CurrentUser, ProvidersDep
from api.schemas.accounts import AccountIn, AccountOut
from config import ProviderConfig
from settings.provider_types import ACCOUNT_NAME_PATTERN
from utils.accounts.upstream_access import account_policy, base_url_problem
from utils.errors import FieldError, InvalidRequest, NotFound

router = APIRouter(prefix="/accounts", tags=["accounts"])

AccountName = Annotated[str, Path(pattern=ACCOUNT_NAME_PATTERN)]


@router.post("", response_model=AccountOut, status_code=status.HTTP_201_CREATED)
def save_account(
    body: AccountIn,
    response: Response,
    user: CurrentUser,
    accounts: AccountsDep,
    providers: ProvidersDep,
) -> AccountOut:
    """Register (or replace) an account of yours; blocks you submit may name it as provider."""
    if body.name in providers.names():
        raise InvalidRequest(
            [FieldError(("name",), f"{body.name!r} is a provider of this service; choose another")]
        )
    if body.type == "volcengine" and not body.app_id:
        raise InvalidRequest([FieldError(("app_id",), "a volcengine account needs its app_id")])
    try:
        config = ProviderConfig(**body.model_dump(exclude={"name"}, exclude_none=True))
    except ValidationError as exc:  # what one provider type needs (Volcano Engine: app_id)
        raise InvalidRequest(
            [FieldError(tuple(e["loc"]) or ("body",), e["msg"]) for e in exc.errors()]
        ) from None
    if problem := base_url_problem(config.base_url, account_policy()):  # resolves the host
        raise InvalidRequest([FieldError(("base_url",), problem)])
    saved = accounts.save(user.username, body.name, config)
    response.headers["Location"] = f"/accounts/{body.name}"
    return AccountOut(**saved)


@router.get("", response_model=list[AccountOut])
def list_accounts(user: CurrentUser, accounts: AccountsDep) -> list[AccountOut]:
    return [AccountOut(**account) for account in accounts.list(user.username)]


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_account(name: AccountName, user: CurrentUser, accounts: AccountsDep) -> Response:
    """Delete the account: blocks naming it that have not run yet fail instead of using it."""
    if not accounts.delete(user.username, name):
        raise NotFound(f"you have no account {name!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
