"""`python -m api.cli delete-user NAME` (api/cli.py): the user and all that is theirs, as
DELETE /users/{name} does (utils/auth/user_deletion.py)."""

from __future__ import annotations

import sys

import redis

from config import get_settings
from utils.auth.api_keys import ApiKeys
from utils.auth.user_deletion import delete_user
from utils.auth.users import USERNAME_RE, UserStore
from utils.errors import StorageError
from utils.jobs.store import JobStore
from utils.storage.factory import build_storage


def delete_user_command(client: redis.Redis, username: str) -> int:
    if not USERNAME_RE.match(username):
        print("a username is 1-64 letters, digits or _ . @ -", file=sys.stderr)
        return 1
    settings = get_settings()
    try:
        storage = build_storage(settings.storage)  # the service's: the CLI reads the same .env
    except StorageError as exc:
        print(f"cannot open the audio storage: {exc}", file=sys.stderr)
        return 1
    jobs = JobStore(client, settings.JOB_TTL)
    deleted = delete_user(UserStore(client), ApiKeys(client), jobs, storage, username)
    if deleted is None:
        print(f"no user {username!r}", file=sys.stderr)
        return 1
    print(
        f"user {username} deleted: {deleted.jobs} jobs ({deleted.audio_objects} audio files), "
        f"{deleted.api_keys} API keys, {deleted.accounts} provider accounts"
    )
    if deleted.audio_left:
        print(
            f"the audio of {deleted.audio_left} jobs could not be deleted now; beat's purge "
            "deletes it by age (JOB_TTL)",
            file=sys.stderr,
        )
    return 0
