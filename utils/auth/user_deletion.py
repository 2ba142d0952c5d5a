"""Deleting a user and everything that is theirs (`DELETE /users/{name}`, `python -m api.cli
delete-user NAME`): their credentials first, so nothing they send is accepted from then on,
then their jobs with their audio, their provider accounts, their webhook secret.

    tts:user:{name}                   the user: their uid goes with it, so their tokens fail
    tts:user:{name}:apikeys           and each tts:apikey:{sha256} it lists
    tts:user:{name}:accounts          their own provider accounts, keys and all
    tts:user:{name}:webhook_secret
    tts:user:{name}:projects          their projects, and each one's last render
    tts:streams:{name}                their open streams' leases
    tts:user:{name}:jobs              and every job it lists (utils/jobs/deletion.py): the
                                      job's keys, its webhook delivery, its stored audio

Running it again finishes what an interrupted run left (the user's hash is gone then, the
rest is found by name). Not theirs alone, so kept: cached block audio (shared by content
between users, kept AUDIO_CACHE_TTL after its last use) and rate-limit counts (one window).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from utils.auth.api_keys import ApiKeys
from utils.auth.users import UserStore
from utils.errors import StorageError
from utils.jobs.deletion import delete_job
from utils.jobs.store import JobStore
from utils.names import (
    open_streams_key,
    user_accounts_key,
    user_jobs_key,
    user_project_renders_key,
    user_projects_key,
    webhook_secret_key,
)
from utils.storage.base import Storage

log = logging.getLogger(__name__)

JOBS_PER_READ = 200


@dataclass(frozen=True)
class DeletedUser:
    """What went, as the API's answer and the CLI's line say."""

    username: str
    jobs: int
    audio_objects: int
    api_keys: int
    accounts: int
    # Jobs whose audio the storage could not delete now: beat's purge takes it by age.
    audio_left: int = 0

    def as_dict(self) -> dict[str, str | int]:
        return {
            "username": self.username,
            "jobs": self.jobs,
            "audio_objects": self.audio_objects,
            "api_keys": self.api_keys,
            "accounts": self.accounts,
            "audio_left": self.audio_left,
        }


def delete_user(
    users: UserStore, api_keys: ApiKeys, jobs: JobStore, storage: Storage, username: str
) -> DeletedUser | None:
    """Delete the user and all that is theirs; None if there was no such user, nor anything
    left of one."""
    client = users.redis
    existed = users.delete(username)
    n_keys = api_keys.delete_all(username)
    accounts = user_accounts_key(username)
    with client.pipeline(transaction=True) as pipe:
        pipe.hlen(accounts)
        pipe.delete(
            accounts,
            webhook_secret_key(username),
            open_streams_key(username),
            user_projects_key(username),
            user_project_renders_key(username),
        )
        n_accounts, n_deleted = pipe.execute()
    n_jobs, n_objects, left = _delete_jobs(jobs, storage, username)
    if not (existed or n_keys or n_deleted or n_jobs):
        return None
    deleted = DeletedUser(username, n_jobs, n_objects, n_keys, n_accounts, left)
    log.info("user %s deleted: %s", username, deleted.as_dict())
    return deleted


def _delete_jobs(jobs: JobStore, storage: Storage, username: str) -> tuple[int, int, int]:
    """(jobs deleted, stored objects deleted, jobs whose audio stays for the age purge)."""
    index = user_jobs_key(username)
    n_jobs = n_objects = left = 0
    # Until the index is empty: a submit whose credential was checked just before the user
    # went may still add a job while this runs.
    while job_ids := jobs.redis.zrange(index, 0, JOBS_PER_READ - 1):
        for job_id in job_ids:
            owner = jobs.owner_of(job_id)
            if owner in (None, username):  # None: expired, but its audio may be there still
                n_jobs += owner is not None
                try:
                    n_objects += delete_job(jobs, storage, job_id)
                except StorageError as exc:
                    log.warning("audio of job %s not deleted (%s); purged by age", job_id, exc)
                    left += 1
            jobs.redis.zrem(index, job_id)
    return n_jobs, n_objects, left
