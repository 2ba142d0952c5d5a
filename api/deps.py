"""Dependencies as Annotated aliases. Clients are built once in the lifespan (api/main.py)
and kept on app.state; tests override them with `app.dependency_overrides`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer

from config import Settings
from utils.accounts.user_accounts import UserAccounts
from utils.auth.api_keys import ApiKeys
from utils.auth.credentials import Refused, identify
from utils.auth.links import AUDIO, InvalidLink, verify
from utils.auth.users import UserStore
from utils.jobs.store import JobStore
from utils.jobs.submit import JobSubmitter
from utils.lexicons.store import LexiconStore
from utils.logs import note
from utils.projects.store import ProjectStore
from utils.storage.base import Storage
from utils.webhooks.signing_secrets import WebhookSecrets
from workers.providers import ProviderRegistry

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="token",
    auto_error=False,
    description="A token for a username and password (POST /token), sent as "
    "`Authorization: Bearer <token>`.",
)
# The same header, described a second way: /docs gets a box to paste an API key into, and the
# schema says that either credential is accepted wherever one is.
api_key_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="APIKey",
    bearerFormat="tts_sk_...",
    description="An API key (POST /keys), sent as `Authorization: Bearer tts_sk_...`: what "
    "the openai SDK does with its api_key. Accepted wherever a token is.",
)


def _state(request: Request):
    return request.app.state


def get_app_settings(request: Request) -> Settings:
    """The settings the app was built with (create_app(settings)), not the process default."""
    return _state(request).settings


def get_async_redis(request: Request) -> aioredis.Redis:
    return _state(request).aredis


def get_submitter(request: Request) -> JobSubmitter:
    return _state(request).submitter


def get_jobs(request: Request) -> JobStore:
    return _state(request).jobs


def get_users(request: Request) -> UserStore:
    return _state(request).users


def get_storage(request: Request) -> Storage:
    return _state(request).storage


def get_providers(request: Request) -> ProviderRegistry:
    return _state(request).providers


def get_accounts(request: Request) -> UserAccounts:
    return _state(request).accounts


def get_api_keys(request: Request) -> ApiKeys:
    return _state(request).api_keys


def get_webhook_secrets(request: Request) -> WebhookSecrets:
    return _state(request).webhook_secrets


def get_lexicons(request: Request) -> LexiconStore:
    return _state(request).lexicons


def get_projects(request: Request) -> ProjectStore:
    return _state(request).projects


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
AsyncRedisDep = Annotated[aioredis.Redis, Depends(get_async_redis)]
SubmitterDep = Annotated[JobSubmitter, Depends(get_submitter)]
JobsDep = Annotated[JobStore, Depends(get_jobs)]
AccountsDep = Annotated[UserAccounts, Depends(get_accounts)]
UsersDep = Annotated[UserStore, Depends(get_users)]
ApiKeysDep = Annotated[ApiKeys, Depends(get_api_keys)]
StorageDep = Annotated[Storage, Depends(get_storage)]
ProvidersDep = Annotated[ProviderRegistry, Depends(get_providers)]
WebhookSecretsDep = Annotated[WebhookSecrets, Depends(get_webhook_secrets)]
LexiconsDep = Annotated[LexiconStore, Depends(get_lexicons)]
ProjectsDep = Annotated[ProjectStore, Depends(get_projects)]


@dataclass(frozen=True)
class User:
    username: str
    uid: str = ""  # never reused, unlike the name (utils/auth/users.py)


def bearer_token(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    _described: Annotated[HTTPAuthorizationCredentials | None, Depends(api_key_scheme)],
) -> str | None:
    """The bearer credential: a JWT, or an API key (tts_sk_...)."""
    return token


BearerToken = Annotated[str | None, Depends(bearer_token)]


def get_current_user(
    token: BearerToken, settings: SettingsDep, users: UsersDep, api_keys: ApiKeysDep
) -> User:
    # Checked against the user as they are now: utils/auth/credentials.py says what holds.
    try:
        identity = identify(token, settings, users, api_keys)
    except Refused as exc:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=str(exc),
            headers={"WWW-Authenticate": "Bearer"},
        ) from None
    note(user=identity.username)  # on the request's log lines, and the tasks it sends
    return User(identity.username, identity.uid)


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_audio_owner(
    job_id: uuid.UUID,
    token: BearerToken,
    settings: SettingsDep,
    users: UsersDep,
    api_keys: ApiKeysDep,
    exp: Annotated[
        int | None, Query(description="A signed link's expiry (Unix time), from GET /result")
    ] = None,
    sig: Annotated[str | None, Query(description="A signed link's signature")] = None,
) -> str | None:
    """Who must own the job: the token's (or API key's) user; None where a signed link (exp
    and sig, no token needed) grants this job's audio to whoever holds it."""
    if exp is None and sig is None:
        return get_current_user(token, settings, users, api_keys).username
    if exp is None or sig is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a signed link needs both exp and sig")
    try:
        verify(str(job_id), AUDIO, exp, sig, settings)
    except InvalidLink as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    return None


# The owner to look the job up with (utils/jobs/store.py JobStore.get), or None.
AudioOwner = Annotated[str | None, Depends(get_audio_owner)]
