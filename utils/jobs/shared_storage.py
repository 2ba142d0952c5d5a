"""Whether the API and every worker share one storage: the API announces its storage at start
(`announce_api_storage`), each worker process carries its own in its heartbeat
(utils/jobs/liveness.py), and those that differ are named: by the worker itself as it starts
(it refuses to), by a running worker when the API announces other storage later (it takes no
blocks while they differ: `refusal_here`), by /ready (utils/readiness.py), and by the combine's
error when a block's audio is not where it looked (`missing_block_reason`).

Identities say where, never how to get in (utils/storage/identity.py)."""

from __future__ import annotations

import json
import re

import redis

from utils.jobs.liveness import Heartbeat, live_workers, read_heartbeat, this_worker
from utils.names import api_storage_key, block_key, worker_heartbeat_key
from utils.storage.identity import StorageIdentity

_BLOCK_IN_KEY = re.compile(r"block_(\d+)\.")


def announce_api_storage(client: redis.Redis, identity: StorageIdentity) -> None:
    client.set(api_storage_key(), json.dumps(identity.as_dict()))


def api_storage(client: redis.Redis) -> StorageIdentity | None:
    value = client.get(api_storage_key())
    try:
        return StorageIdentity.from_dict(json.loads(value)) if value else None
    except ValueError:
        return None


def storage_of(client: redis.Redis, worker: str) -> StorageIdentity | None:
    """The storage `worker` (host:pid) announced, while it beats; None once it stopped."""
    return StorageIdentity.from_dict(read_heartbeat(client.get(worker_heartbeat_key(worker)))[1])


def workers_not_sharing(
    client: redis.Redis, identity: StorageIdentity
) -> list[tuple[str, StorageIdentity]]:
    """Live worker processes whose announced storage is not `identity` (those announcing none,
    started before storage was announced, are not counted)."""
    workers = sorted(set(live_workers(client, True)) | set(live_workers(client, False)))
    if not workers:
        return []
    with client.pipeline(transaction=False) as pipe:
        for worker in workers:
            pipe.get(worker_heartbeat_key(worker))
        values = pipe.execute()
    others = []
    for worker, value in zip(workers, values, strict=True):
        theirs = StorageIdentity.from_dict(read_heartbeat(value)[1])
        if theirs is not None and theirs.key != identity.key:
            others.append((worker, theirs))
    return others


def refusal_here() -> str | None:
    """Why this process must take no blocks (its storage is not the one the API announced, as
    of its last heartbeat), or None. Read from memory: no Redis command per block."""
    if not Heartbeat.api_storage or not Heartbeat.storage:
        return None
    try:
        api = StorageIdentity.from_dict(json.loads(Heartbeat.api_storage))
    except ValueError:
        return None
    mine = StorageIdentity.from_dict(Heartbeat.storage)
    if api is None or mine is None or api.key == mine.key:
        return None
    return refusal(this_worker(), mine, api)


def refusal(worker: str, mine: StorageIdentity, api: StorageIdentity) -> str:
    return (
        f"worker {worker} does not share the API's storage: it stores to {mine.text}, the API "
        f"serves from {api.text}; give every worker the API's storage settings "
        "(STORAGE_BACKEND and its S3_* or CLOUDINARY_* settings)"
    )


def missing_block_reason(client: redis.Redis, job_id: str, key: str, here: StorageIdentity) -> str:
    """Why a block's audio (`key`) is not in storage, naming the worker that made it."""
    found = _BLOCK_IN_KEY.search(key)
    worker = client.hget(block_key(job_id, int(found.group(1))), "worker") if found else None
    theirs = storage_of(client, worker) if worker else None
    if not worker or (theirs is not None and theirs.key == here.key):
        return (
            f"{key} is not in storage: a block's audio is not where the combine ran "
            f"({here.text}); workers on more than one machine need shared storage "
            "(STORAGE_BACKEND=s3 or cloudinary)"
        )
    where = theirs.text if theirs else "unknown: it no longer beats"
    return (
        f"{key} is not in storage: block {int(found.group(1))} was made by worker {worker}, "
        f"whose storage ({where}) is not this one's ({here.text}); every worker needs the "
        "API's storage (STORAGE_BACKEND=s3 or cloudinary across machines)"
    )
