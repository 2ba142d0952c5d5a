from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from slowapi import Limiter

from api.deps import SettingsDep, UsersDep
from config import Settings
from utils.schemas import TokenOut
from utils.security import create_access_token


def build_router(limiter: Limiter, settings: Settings) -> APIRouter:
    """POST /token, limited per client address by the app's own limiter."""
    router = APIRouter(tags=["auth"])
    limited = limiter.limit(settings.RATE_LIMIT_TOKEN)(issue_token)
    router.add_api_route("/token", limited, methods=["POST"], response_model=TokenOut)
    return router


def issue_token(
    request: Request,
    response: Response,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    users: UsersDep,
    settings: SettingsDep,
) -> TokenOut:
    """Exchange a username and password (OAuth2 password form) for a bearer token."""
    if not users.authenticate(form.username, form.password):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = create_access_token(form.username, settings)
    return TokenOut(access_token=token.token, expires_in=token.expires_in)
