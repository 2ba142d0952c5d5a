"""/projects: scripts the service keeps for their owner (utils/projects/store.py), edited with
optimistic concurrency, and rendered as jobs.

A save names the version it was made from (If-Match: "<version>", or `version` in the body);
if another save came first, it is refused (412 for If-Match, 409 for the body's version) with
the current version, and nothing is overwritten. Rendering is a job like any (POST /tts's
validation, JobSubmitter); the audio cache finishes at once every block unchanged since an
earlier render, and the answer says which blocks are new and which came from the cache.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import (
    CurrentUser,
    JobsDep,
    LexiconsDep,
    ProjectsDep,
    ProvidersDep,
    SettingsDep,
    SubmitterDep,
)
from api.project_content import content_from, content_from_file, job_body, rendered_blocks
from api.rate_limits import rate_limit, user_or_address
from api.schemas.projects import (
    ConflictOut,
    ProjectContent,
    ProjectList,
    ProjectOut,
    ProjectSummary,
    ProjectUpdate,
    RenderOut,
)
from api.urls import signed_audio_url
from api.validation import validate_job
from utils.errors import FieldError, InvalidRequest
from utils.projects.store import ProjectStore, VersionConflict, first_words

router = APIRouter(prefix="/projects", tags=["projects"])

CONFLICT = {"model": ConflictOut, "description": "Saved meanwhile from another version."}


def _out(store: ProjectStore, owner: str, project: dict, response: Response) -> ProjectOut:
    response.headers["ETag"] = f'"{project["version"]}"'
    return ProjectOut(**project, last_render=store.last_render(owner, project["id"]))


@router.post("", response_model=ProjectOut, status_code=status.HTTP_201_CREATED)
def create_project(
    body: ProjectContent,
    response: Response,
    user: CurrentUser,
    settings: SettingsDep,
    store: ProjectsDep,
) -> ProjectOut:
    """A new project, from blocks or from a pasted script (text, Markdown, SSML, JSON)."""
    project = store.create(user.username, content_from(body, settings))
    response.headers["Location"] = f"/projects/{project['id']}"
    return _out(store, user.username, project, response)


@router.post("/import", response_model=ProjectOut, status_code=status.HTTP_201_CREATED)
async def import_project(
    response: Response,
    user: CurrentUser,
    settings: SettingsDep,
    store: ProjectsDep,
    file: Annotated[UploadFile, File(description="A .txt, .md, .ssml, .json or .epub file.")],
    title: Annotated[str | None, Form(max_length=200)] = None,
) -> ProjectOut:
    """A new project from an uploaded script or book (its format from the file's name)."""
    data = await file.read()
    content = await run_in_threadpool(content_from_file, data, file.filename or "", title, settings)
    project = await run_in_threadpool(store.create, user.username, content)
    response.headers["Location"] = f"/projects/{project['id']}"
    return await run_in_threadpool(_out, store, user.username, project, response)


@router.get("", response_model=ProjectList)
def list_projects(user: CurrentUser, store: ProjectsDep) -> ProjectList:
    """Your projects, the last edited first, each with its title and first words."""
    return ProjectList(
        projects=[
            ProjectSummary(
                id=p["id"],
                version=p["version"],
                title=p.get("title"),
                first_words=first_words(p),
                n_blocks=len(p["blocks"]),
                updated_at=p["updated_at"],
            )
            for p in store.list(user.username)
        ]
    )


@router.get("/{project_id}", response_model=ProjectOut)
def get_project(
    project_id: str, response: Response, user: CurrentUser, store: ProjectsDep
) -> ProjectOut:
    return _out(store, user.username, store.get(user.username, project_id), response)


def _wanted_version(if_match: str | None, body_version: int | None) -> tuple[int, int]:
    """The version a save was made from, and the status that refuses it if stale."""
    if if_match is not None:
        found = re.fullmatch(r'\s*(?:W/)?"?(\d+)"?\s*', if_match)
        if not found:
            raise InvalidRequest([FieldError(("If-Match",), 'expected "<version>", e.g. "3"')])
        return int(found.group(1)), status.HTTP_412_PRECONDITION_FAILED
    if body_version is None:
        message = 'say which version this edit was made from: If-Match: "<version>" or version'
        raise InvalidRequest([FieldError(("version",), message)])
    return body_version, status.HTTP_409_CONFLICT


@router.put(
    "/{project_id}",
    response_model=ProjectOut,
    responses={409: CONFLICT, 412: CONFLICT},
)
def update_project(
    project_id: str,
    body: ProjectUpdate,
    response: Response,
    user: CurrentUser,
    settings: SettingsDep,
    store: ProjectsDep,
    if_match: Annotated[str | None, Header()] = None,
):
    """Replace the project's content, if it is still at the version the edit was made from."""
    version, refusal = _wanted_version(if_match, body.version)
    store.get(user.username, project_id)  # another user's, or none: 404 before any check
    content = content_from(body, settings)
    try:
        project = store.update(user.username, project_id, content, version)
    except VersionConflict as exc:
        current = exc.current["version"]
        return JSONResponse(
            {"detail": f"{exc}; reload it, or save again on top of it", "current_version": current},
            status_code=refusal,
            headers={"ETag": f'"{current}"'},
        )
    return _out(store, user.username, project, response)


@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_project(project_id: str, user: CurrentUser, store: ProjectsDep) -> Response:
    store.delete(user.username, project_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{project_id}/render",
    response_model=RenderOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[rate_limit("RATE_LIMIT_SUBMIT", user_or_address)],
)
def render_project(
    project_id: str,
    request: Request,
    response: Response,
    user: CurrentUser,
    settings: SettingsDep,
    store: ProjectsDep,
    providers: ProvidersDep,
    submitter: SubmitterDep,
    jobs: JobsDep,
    lexicons: LexiconsDep,
) -> RenderOut:
    """The project's audio, as a job; blocks unchanged since a render come from the cache."""
    project = store.get(user.username, project_id)
    valid = validate_job(job_body(project), user.username, settings, providers, lexicons)
    links_base = settings.PUBLIC_BASE_URL.rstrip("/") or str(request.base_url).rstrip("/")
    job = submitter.submit(
        user.username,
        valid.output_format,
        valid.blocks,
        valid.combine,
        options=valid.options,
        links_base=links_base,
    )
    store.note_render(user.username, project_id, job.id, project["version"])
    blocks = rendered_blocks(project, jobs.get(job.id))
    response.headers["Location"] = f"/status/{job.id}"
    stream_url, _ = signed_audio_url(request, settings, job.id, stream=True)
    return RenderOut(
        job_id=job.id,
        status=job.status.value,
        stream_url=stream_url,
        version=project["version"],
        blocks=blocks,
        new_blocks=[b["index"] for b in blocks if b["made"] == "new"],
        cached_blocks=[b["index"] for b in blocks if b["made"] == "cached"],
    )
