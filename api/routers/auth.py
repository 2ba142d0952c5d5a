from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import SettingsDep, UsersDep
from api.rate_limits import client_address, rate_limit
from api.schemas.auth import TokenOut
from utils.auth.tokens import create_access_token

router = APIRouter(tags=["auth"])


@router.post(
    "/token",
    response_model=TokenOut,
    dependencies=[rate_limit("RATE_LIMIT_TOKEN", client_address)],  # against password guessing
)
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    users: UsersDep,
    settings: SettingsDep,
) -> TokenOut:
    """Exchange a username and password (OAuth2 password form) for a bearer token."""
    identity = users.login(form.username, form.password)
    if identity is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = create_access_token(
        identity.username, settings, uid=identity.uid, cred_version=identity.cred_version
    )
    return TokenOut(access_token=token.token, expires_in=token.expires_in)
