"""Users, for the administrator: delete one, with everything that is theirs
(utils/auth/user_deletion.py). Users are made with `python -m api.cli add-user`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from api.deps import ApiKeysDep, CurrentUser, JobsDep, SettingsDep, StorageDep, UsersDep
from api.schemas.users import UserDeletedOut
from utils.auth.user_deletion import delete_user
from utils.auth.users import USERNAME_RE
from utils.errors import NotFound

router = APIRouter(prefix="/users", tags=["users"])

UserName = Annotated[str, Path(pattern=USERNAME_RE.pattern)]


@router.delete("/{username}", response_model=UserDeletedOut)
def remove_user(
    username: UserName,
    user: CurrentUser,
    settings: SettingsDep,
    users: UsersDep,
    api_keys: ApiKeysDep,
    jobs: JobsDep,
    storage: StorageDep,
) -> UserDeletedOut:
    """Delete a user (administrator only: ADMIN_USERNAME): their tokens and API keys are
    refused from now on, and their jobs, audio, API keys, provider accounts and webhook
    secret are deleted. A user later created under the same name gets none of it back."""
    if user.username != settings.ADMIN_USERNAME:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only the administrator (ADMIN_USERNAME) deletes users"
        )
    if username == user.username:
        # ADMIN_PASSWORD would make it again at the next start, with nothing of the old.
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "the administrator cannot delete themselves here; use python -m api.cli delete-user",
        )
    deleted = delete_user(users, api_keys, jobs, storage, username)
    if deleted is None:
        raise NotFound(f"no user {username!r}")
    return UserDeletedOut(**deleted.as_dict())
