"""Celery signal handlers for logs, metrics and liveness; connected when workers/celery_app.py
is imported (by workers, beat and the API alike).

    setup_logging            every process's logs through structlog (utils/logs.py)
    before_task_publish      the request id (and user) rides along in the message's headers
    task_prerun / postrun    ... and is bound to every line the task logs, with its job and block
    celeryd_init             a worker node counts its metrics in multiprocess mode
    worker_ready             ... serves them on WORKER_METRICS_PORT; a thread pool starts beating
    worker_process_shutdown  a pool process's metric files are marked dead

The request id of the API request that submitted a job travels dispatch -> process_block ->
combine: a task passes it on to the tasks it sends for its own job only. (A block re-sent by
another job's task, handed a freed account slot, goes without; its lines still carry its job.)

Nothing here imports prometheus_client at module level: multiprocess mode must be chosen
(celeryd_init) before any metric value exists.
"""

from __future__ import annotations

import logging
import os

from celery import signals

from config import get_settings
from utils.logs import bind_fields, configure_logging, current_fields
from utils.names import COMBINE_BLOCKS, DISPATCH_BLOCKS, PROCESS_BLOCK

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "tts_request_id"
USER_HEADER = "tts_user"
JOB_TASKS = (PROCESS_BLOCK, DISPATCH_BLOCKS, COMBINE_BLOCKS)  # first argument: the job id


@signals.setup_logging.connect
def _setup_logging(loglevel=None, **_) -> None:
    # Connected, so Celery leaves logging alone; its --loglevel still sets the level.
    configure_logging(get_settings().log_format, loglevel or logging.INFO)


@signals.before_task_publish.connect
def _carry_request_id(sender=None, body=None, headers=None, **_) -> None:
    fields = current_fields()
    request_id = fields.get("request_id")
    if not request_id or headers is None:
        return
    own_job = fields.get("job_id")
    args = body[0] if isinstance(body, list | tuple) and body else ()
    if sender in JOB_TASKS and own_job and (not args or args[0] != own_job):
        return  # another job's task: not this request's
    headers[REQUEST_ID_HEADER] = request_id
    if fields.get("user"):
        headers[USER_HEADER] = fields["user"]


def _header(request, name: str):
    return getattr(request, name, None) or (getattr(request, "headers", None) or {}).get(name)


@signals.task_prerun.connect
def _bind_task_fields(task=None, args=None, **_) -> None:
    fields = {
        "request_id": _header(task.request, REQUEST_ID_HEADER),
        "user": _header(task.request, USER_HEADER),
        "task": task.name,
    }
    if task.name in JOB_TASKS and args:
        fields["job_id"] = args[0]
        if task.name == PROCESS_BLOCK and len(args) > 1:
            fields["block"] = args[1]
    bind_fields(**fields)


@signals.task_postrun.connect
def _unbind_task_fields(**_) -> None:
    bind_fields()


@signals.celeryd_init.connect
def _count_across_processes(sender=None, **_) -> None:
    settings = get_settings()
    if settings.WORKER_METRICS_PORT:
        from workers.metrics import metrics_dir, use_multiprocess

        use_multiprocess(metrics_dir(settings.DATA_DIR, str(sender)))


@signals.worker_ready.connect
def _worker_ready(**_) -> None:
    settings = get_settings()
    if settings.WORKER_METRICS_PORT:
        from workers.metrics import serve

        serve(settings.WORKER_METRICS_PORT)
    from workers.tasks import takes_local_blocks

    if not takes_local_blocks():
        # A thread pool's tasks run in this process: it beats from now on, so probes see a
        # live worker before its first block (a prefork pool's processes beat as they start).
        from utils.jobs.liveness import Heartbeat
        from workers.context import worker_context

        Heartbeat.ensure(worker_context().redis)


@signals.worker_process_shutdown.connect
def _process_exited(pid=None, **_) -> None:
    from workers.metrics import process_exited

    process_exited(pid or os.getpid())
