"""Lua scripts inside pipelines, without asking Redis first whether it has them.

redis-py's pipeline sends SCRIPT EXISTS for the scripts it carries before every execute: a
round trip more on each pipeline that holds one (a job's submit, its dispatch, its completion),
about a tenth of a submit's time in the API. Here a pipeline sends EVALSHA straight away. A
Redis that does not know a script (restarted, failed over to a replica, its scripts flushed)
answers NOSCRIPT: the scripts are loaded and the pipeline is sent again, whole. So that this is
rare (a pipeline of a large job sent twice holds the interpreter twice as long), each process
loads a script once per Redis before its first pipeline there.

So a pipeline run by `execute` must be safe to send twice: its other commands set values (HSET,
ZADD with a fixed score, EXPIREAT) rather than add to them, which is true of every one that
uses this module.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis
from redis.client import Pipeline
from redis.commands.core import Script
from redis.exceptions import NoScriptError

_SOURCES: dict[str, str] = {}  # sha -> the script's source, for loading after a NOSCRIPT
_LOADED: set[tuple[int, str]] = set()  # (id of a connection pool, sha) loaded there


def queue_script(pipe: Pipeline, script: Script, keys: Sequence, args: Sequence = ()) -> None:
    """Queue `script` in `pipe` as an EVALSHA (run it with `execute`)."""
    _SOURCES.setdefault(script.sha, script.script)
    pipe.evalsha(script.sha, len(keys), *keys, *args)


def execute(pipe: Pipeline) -> list:
    """`pipe.execute()`; where Redis lacks a script, load it and send the pipeline again."""
    stack = list(pipe.command_stack)
    shas = {args[1] for args, _ in stack if args and args[0] == "EVALSHA"}
    _load(pipe, [sha for sha in shas if (id(pipe.connection_pool), sha) not in _LOADED])
    try:
        return pipe.execute()
    except NoScriptError:  # Redis lost them (a restart, a failover)
        _load(pipe, shas)
        pipe.command_stack = stack  # execute() emptied it
        return pipe.execute()


def _load(pipe: Pipeline, shas) -> None:
    # on the Redis this pipeline talks to (a script's own client may be another's)
    client = redis.Redis(connection_pool=pipe.connection_pool)
    for sha in shas:
        client.script_load(_SOURCES[sha])
        _LOADED.add((id(pipe.connection_pool), sha))
