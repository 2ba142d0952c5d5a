"""A task's log fields: the request id (and user) carried in its message's headers, and its job
and block bound to every line it logs.

    before_task_publish      the request id (and user) rides along in the message's headers
    task_prerun / postrun    ... and is bound to every line the task logs, with its job and block

The request id of the API request that submitted a job travels dispatch -> process_block ->
combine: a task passes it on to the tasks it sends for its own job only. (A block re-sent by
another job's task, handed a freed account slot, goes without; its lines still carry its job.)

Connected by workers/celery_app.py's create_celery, so every process that sends tasks (the API
too, which never runs a worker) passes the request id on.
"""

from __future__ import annotations

from celery import signals

from utils.logs import bind_fields, current_fields
from utils.names import COMBINE_BLOCKS, DISPATCH_BLOCKS, PROCESS_BLOCK

REQUEST_ID_HEADER = "tts_request_id"
USER_HEADER = "tts_user"
JOB_TASKS = (PROCESS_BLOCK, DISPATCH_BLOCKS, COMBINE_BLOCKS)  # first argument: the job id


def connect() -> None:
    """Connect the handlers; once per process however many apps are built (dispatch_uid)."""
    signals.before_task_publish.connect(_carry_request_id, dispatch_uid="tts.carry_request_id")
    signals.task_prerun.connect(_bind_task_fields, dispatch_uid="tts.bind_task_fields")
    signals.task_postrun.connect(_unbind_task_fields, dispatch_uid="tts.unbind_task_fields")


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


def _unbind_task_fields(**_) -> None:
    bind_fields()


def handed_block_fields(releaser: dict, job_id: str, index: int) -> dict:
    """The log fields of a block started where its slot was freed (workers/direct_handoff.py),
    as its task's would be: the request id and user carry over only within the same job."""
    same_job = releaser.get("job_id") == job_id
    return {
        "request_id": releaser.get("request_id") if same_job else None,
        "user": releaser.get("user") if same_job else None,
        "task": PROCESS_BLOCK,
        "job_id": job_id,
        "block": index,
    }
