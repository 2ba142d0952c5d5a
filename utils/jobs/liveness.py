"""Which worker is making which block, and whether that worker is still alive.

Each worker process that makes blocks keeps a heartbeat key alive (written every
WORKER_HEARTBEAT_S by a daemon thread of its own, expiring WORKER_DEAD_AFTER_S after the last
write), and a block that starts is noted in one hash with the process making it:

    tts:worker:{host}:{pid}   heartbeat: JSON of the process's stamp, its storage identity
                              (utils/storage/identity.py) and the blocks it is making now;
                              expires WORKER_DEAD_AFTER_S after the process stops
    tts:blocks:running        "{job id}:{index}" -> "{host}:{pid}"
    tts:workers:local         local (CPU) pool processes -> when their heartbeat expires
    tts:workers:network       every other worker process -> when its heartbeat expires

A beat is one pipelined write (SET with its expiry, ZADD), which also reads the storage the API
announced (utils/jobs/shared_storage.py): a process whose storage is not that one takes no
blocks while it differs. A block whose process stopped beating
(killed, its machine gone) was lost mid-way; beat looks every WORKER_CHECK_S, finds it here and
sends it again, rather than waiting for the broker's visibility timeout (longer than the longest
block). A block's own task refreshes nothing: the heartbeat is the process's, written from a
thread the block's work never holds (synthesis in onnxruntime, network waits and encoders all
release the GIL), so a long block never looks lost while its process lives.

A process dead on the machine of the one asking is known at once, without waiting for its
heartbeat to expire: the heartbeat holds the process's stamp (the kernel's boot id, its pid
namespace and its start time), and a process of the same kernel and namespace whose pid is gone,
a zombie, or another process's now, is dead (`dead_workers`). So a worker process starting
where another was killed finds it dead and sends its blocks again (workers/housekeeping.py
`reclaim_at_start`). Elsewhere (another machine, or no /proc) only the expiry says so.

A block's task delivered again while its first delivery is still being made (the broker
hands unacknowledged tasks out again after its connection was lost, though the process making
them lives and finishes them) waits for that one: `still_making` reads the maker's heartbeat,
which lists the blocks it is making. An expiry says so only while the looks for lost blocks
have run unbroken (utils/jobs/liveness_looks.py): after an outage every heartbeat may have
lapsed with its process alive.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from contextlib import contextmanager

import redis

from settings.cluster import LivenessSettings
from utils.jobs.liveness_looks import expiries_count
from utils.names import (
    api_storage_key,
    local_devices_key,
    local_workers_key,
    network_workers_key,
    running_blocks_key,
    worker_heartbeat_key,
)

log = logging.getLogger(__name__)

# Defaults of WORKER_HEARTBEAT_S and WORKER_DEAD_AFTER_S (settings/cluster.py), for a process
# that beats before it has read its settings.
HEARTBEAT_S = 2.0
DEAD_AFTER_S = 6.0


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def process_stamp(pid: int | str = "self") -> str | None:
    """`{boot id}|{pid namespace}|{start time}` of a process of this kernel; None where there
    is no such process (or it is a zombie), "" where /proc cannot say (not Linux)."""
    try:
        boot = _read("/proc/sys/kernel/random/boot_id").strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    try:
        stat = _read(f"/proc/{pid}/stat")
    except FileNotFoundError:
        return None
    except OSError:
        return ""
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
    if fields[0] in ("Z", "X"):
        return None
    return f"{boot}|{namespace}|{fields[19]}"


class Heartbeat:
    """A daemon thread beating for this process; started once per process (forks included).

    A local pool process also counts itself in the local pool: its size is how many local
    blocks may run at once (workers/account_slots.py), so it must beat before it takes any."""

    _lock = threading.Lock()
    _pid: int | None = None
    stamp = ""
    every_s = HEARTBEAT_S
    dead_after_s = DEAD_AFTER_S
    storage: dict | None = None  # StorageIdentity.as_dict() of this process's storage
    api_storage: str | None = None  # what the API announced (JSON), as of the last beat
    _making: set[str] = set()  # running fields ({job id}:{index}) of the blocks made here now

    @classmethod
    def configure(cls, every_s: float, dead_after_s: float, storage: dict | None) -> None:
        """How often to beat, when silence means dead, and what storage to announce."""
        cls.every_s, cls.dead_after_s, cls.storage = every_s, dead_after_s, storage

    @classmethod
    def ensure(cls, client: redis.Redis, local: bool = False) -> None:
        with cls._lock:
            if cls._pid == os.getpid():
                return
            cls._pid = os.getpid()
            cls._making = set()  # a fork makes none of its parent's blocks
            cls.stamp = process_stamp() or ""
            args = (client, this_worker(), local, cls.dead_after_s)
            cls.api_storage = _beat_once(*args, cls._value())  # alive from the first block on
            threading.Thread(
                target=cls._beat, args=(*args, cls.every_s), daemon=True, name="heartbeat"
            ).start()

    @classmethod
    def _value(cls) -> str:
        making = sorted(cls._making)  # a copy: blocks start and end on other threads
        return json.dumps({"stamp": cls.stamp, "storage": cls.storage, "making": making})

    @classmethod
    @contextmanager
    def making(cls, field: str):
        """While this process makes the block `field` (listed from its next beat on)."""
        cls._making.add(field)
        try:
            yield
        finally:
            cls._making.discard(field)

    @classmethod
    def is_making(cls, field: str) -> bool:
        return field in cls._making

    @classmethod
    def _beat(cls, client, worker: str, local: bool, ttl_s: float, every_s: float):
        # Paced by the monotonic clock from the start, so a slow write never adds up.
        next_at = time.monotonic()
        while True:
            next_at += every_s
            time.sleep(max(0.0, next_at - time.monotonic()))
            try:
                cls.api_storage = _beat_once(client, worker, local, ttl_s, cls._value())
            except redis.RedisError:  # an outage: beat again when Redis is back
                log.warning("heartbeat not written (Redis unavailable)")
                next_at = time.monotonic()


def _beat_once(
    client: redis.Redis, worker: str, local: bool, ttl_s: float, value: str
) -> str | None:
    """Beat once; the API's announced storage (JSON), read in the same round trip."""
    with client.pipeline(transaction=False) as pipe:
        pipe.set(worker_heartbeat_key(worker), value, px=round(ttl_s * 1000))
        pool = local_workers_key() if local else network_workers_key()
        pipe.zadd(pool, {worker: time.time() + ttl_s})
        pipe.get(api_storage_key())
        announced = pipe.execute()[-1]
    return announced.decode() if isinstance(announced, bytes) else announced


def _fields(value: str | None) -> dict | None:
    """A heartbeat's value as a dict; None where it expired. A bare stamp (as written before
    heartbeats were JSON) has nothing else."""
    if value is None:
        return None
    if value.startswith("{"):
        try:
            beat = json.loads(value)
        except ValueError:
            beat = None
        if isinstance(beat, dict):
            return {**beat, "stamp": str(beat.get("stamp") or "")}
        return {"stamp": ""}
    return {"stamp": value}


def read_heartbeat(value: str | None) -> tuple[str | None, dict | None]:
    """(stamp, storage identity dict) of a heartbeat's value; (None, None) where it expired."""
    beat = _fields(value)
    return (None, None) if beat is None else (beat["stamp"], beat.get("storage"))


def still_making(client: redis.Redis, worker: str, field: str) -> bool:
    """Whether the block `field`, noted as being made by the process `worker`, may still be
    in its hands: exactly, in the asking process itself; elsewhere, while the block's note
    still names it and its heartbeat lists the block (as of its last beat: one it ended since
    may be listed for up to a heartbeat) or has lapsed. A lapsed heartbeat is a process that
    died, or one that lives but could not beat while Redis was out of reach; which of the two,
    /proc says of a process of this machine, and beat's looks of any other (`lost_blocks`,
    which clears the note of a dead one's block); a live one beats again within a heartbeat
    of Redis answering."""
    if worker == this_worker():
        return Heartbeat.is_making(field)
    with client.pipeline(transaction=False) as pipe:
        pipe.get(worker_heartbeat_key(worker))
        pipe.hget(running_blocks_key(), field)
        value, note = pipe.execute()
    if note is None or note.split("|")[0] != worker:
        return False  # found lost and sent again, or started since by another
    beat = _fields(value)
    if beat is None:  # where /proc can tell (a process of this machine, gone), it does
        host, _, pid = worker.rpartition(":")
        return not (host == socket.gethostname() and pid.isdigit() and process_stamp(pid) is None)
    if _gone_from_here(worker, beat["stamp"], process_stamp()):
        return False
    return field in (beat.get("making") or ())


def local_pool_size(client: redis.Redis) -> int:
    """Local pool processes alive now, on every machine (at least the caller, who is one)."""
    now = time.time()
    with client.pipeline(transaction=False) as pipe:
        pipe.zremrangebyscore(local_workers_key(), "-inf", now)
        pipe.zcard(local_workers_key())
        return max(1, pipe.execute()[1])


def running_blocks(client: redis.Redis) -> list[str]:
    """Every block noted as being made now, as `{job id}:{index}` (a slot's holder id)."""
    return list(client.hkeys(running_blocks_key()))


def dead_workers(client: redis.Redis, workers: list[str], expiries: bool = True) -> set[str]:
    """Those of `workers` that are dead: their heartbeat expired (if `expiries` count: see
    `expiries_count`), or they were processes of this kernel and pid namespace that are gone
    (module docstring). A process that beats is alive however slow its block."""
    if not workers:
        return set()
    with client.pipeline(transaction=False) as pipe:
        for worker in workers:
            pipe.get(worker_heartbeat_key(worker))
        stamps = [read_heartbeat(value)[0] for value in pipe.execute()]
    mine = process_stamp()
    dead = set()
    for worker, stamp in zip(workers, stamps, strict=True):
        if stamp is None:
            if expiries:
                dead.add(worker)
        elif _gone_from_here(worker, stamp, mine):
            dead.add(worker)
    return dead


def _gone_from_here(worker: str, stamp: str, mine: str | None) -> bool:
    """Whether `worker`, whose heartbeat holds `stamp`, was a process of this kernel and pid
    namespace (`mine`: the asking process's stamp) that is gone."""
    if not (mine and stamp and stamp.rsplit("|", 1)[0] == mine.rsplit("|", 1)[0]):
        return False
    pid = worker.rsplit(":", 1)[1]
    now = process_stamp(int(pid)) if pid.isdigit() else ""
    return now != stamp and now != ""  # "": /proc cannot say, so the expiry will


def forget_workers(client: redis.Redis, workers: set[str]) -> None:
    """Dead processes out of both pools at once (the local pool's size counts its live ones),
    rather than when their heartbeats would have expired."""
    if workers:
        with client.pipeline(transaction=False) as pipe:
            pipe.zrem(local_workers_key(), *workers)
            pipe.zrem(network_workers_key(), *workers)
            pipe.hdel(local_devices_key(), *workers)
            pipe.delete(*(worker_heartbeat_key(w) for w in workers))
            pipe.execute()


def lost_blocks(
    client: redis.Redis, liveness: LivenessSettings, reborn: str | None = None
) -> list[tuple[str, int]]:
    """Blocks noted as running in a process that is dead (`dead_workers`); each removed from
    the note, so it is returned once (its task, sent again, notes it anew). Dead processes are
    taken out of the pools too. Each call is a look (`expiries_count`).

    `reborn`: the caller's own name, given by a process that has only just started: a block
    noted under it was a dead process's with the same pid (a restarted container's, say)."""
    expiries = expiries_count(client, liveness)
    running = {f: note.split("|")[0] for f, note in client.hgetall(running_blocks_key()).items()}
    pools = set(client.zrange(local_workers_key(), 0, -1))
    pools |= set(client.zrange(network_workers_key(), 0, -1))
    named = sorted((set(running.values()) | pools) - {reborn})
    dead = dead_workers(client, named, expiries)
    forget_workers(client, dead)
    lost = []
    for field, worker in running.items():
        # HDEL answers 1 to one caller only, should two of them race
        if (worker in dead or worker == reborn) and client.hdel(running_blocks_key(), field):
            job_id, index = field.rsplit(":", 1)
            lost.append((job_id, int(index)))
    return lost


def live_workers(client: redis.Redis, local: bool, host: str | None = None) -> list[str]:
    """Worker processes of a pool (local or network) whose heartbeat has not expired, on `host`
    only if given. Expired entries are dropped on the way."""
    key = local_workers_key() if local else network_workers_key()
    now = time.time()
    with client.pipeline(transaction=False) as pipe:
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zrangebyscore(key, now, "+inf")
        workers = pipe.execute()[1]
    return [w for w in workers if host is None or w.rsplit(":", 1)[0] == host]
