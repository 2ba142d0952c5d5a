"""The asyncio client: the same methods as TTSClient (sync_client.py), awaited.

    async with AsyncTTSClient("http://127.0.0.1:8000", api_key="tts_sk_...") as tts:
        job = await tts.submit(["Hello.", "Goodbye."], wait_after_ms=400)
        await tts.wait(job.job_id, progress=lambda s: print(s.progress))
        await tts.download(job.job_id, "hello.mp3")

`progress` may be a plain function or a coroutine function.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx

from tts_client import _core, _job_ids
from tts_client.errors import AuthError, JobFailed, Unreachable
from tts_client.models import (
    JobAccepted,
    JobCancelled,
    JobPage,
    JobResult,
    JobStatus,
    JobSummary,
    Provider,
    Voice,
)

Progress = Callable[[JobStatus], None]


class AsyncTTSClient:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        retry: _core.RetryPolicy | None = None,
        poll_interval: float = 0.5,
        on_retry: Callable[[httpx.Response, float], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.credentials = _core.Credentials(api_key, username, password)
        self.retry_policy = retry or _core.RetryPolicy()
        self.poll_interval = poll_interval
        self.on_retry = on_retry  # told of each 429/503 waited out: (response, seconds)
        self._openapi: dict | None = None
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": _core.USER_AGENT},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncTTSClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    # -- the API --------------------------------------------------------------------------

    async def submit(self, blocks=None, **options) -> JobAccepted:
        """Submit a job: blocks (strings, dicts or Blocks), or text=, ssml= or job= (a whole
        body); provider, voice, speed, wait_after_ms fill blocks that do not set them;
        output_format, combine as the API takes them."""
        body = _core.job_body(blocks, **options)
        return JobAccepted.model_validate(await self._json("POST", "/tts", json=body))

    async def submit_book(self, epub: bytes, **options) -> JobAccepted:
        """Submit an EPUB's bytes as one chaptered job (as TTSClient.submit_book)."""
        params = {k: v for k, v in options.items() if v is not None}
        headers = {"Content-Type": _core.EPUB_TYPE}
        answer = await self._json(
            "POST", _core.BOOK_PATH, content=epub, params=params, headers=headers
        )
        return JobAccepted.model_validate(answer)

    async def status(self, job_id: str) -> JobStatus:
        return JobStatus.model_validate(await self._json("GET", f"/status/{job_id}"))

    async def result(self, job_id: str) -> JobResult:
        return JobResult.model_validate(await self._json("GET", f"/result/{job_id}"))

    async def retry(self, job_id: str) -> JobAccepted:
        return JobAccepted.model_validate(await self._json("POST", f"/tts/{job_id}/retry"))

    async def cancel(self, job_id: str, purge: bool = False) -> JobCancelled:
        """Cancel a queued or processing job (again: the same answer); purge=True also deletes
        its audio, a finished job's too. Conflict (409) for a job combining or finished."""
        params = {"purge": "true"} if purge else {}
        body = await self._json("DELETE", f"/jobs/{job_id}", params=params)
        return JobCancelled.model_validate(body)

    async def providers(self) -> list[Provider]:
        return [Provider.model_validate(p) for p in await self._json("GET", "/tts/providers")]

    async def voices(self, provider: str) -> list[Voice]:
        return [Voice.model_validate(v) for v in await self._json("GET", f"/tts/voices/{provider}")]

    async def jobs(
        self, limit: int = 20, cursor: str | None = None, offset: int | None = None
    ) -> JobPage:
        """One page of your jobs, newest first; page on with next_cursor."""
        params = {"limit": limit, "cursor": cursor, "offset": offset}
        params = {k: v for k, v in params.items() if v is not None}
        return JobPage.model_validate(await self._json("GET", "/jobs", params=params))

    async def iter_jobs(self, page_size: int = 50) -> AsyncIterator[JobSummary]:
        cursor = None
        while True:
            page = await self.jobs(limit=page_size, cursor=cursor)
            for job in page.jobs:
                yield job
            if not (cursor := page.next_cursor):
                return

    async def resolve_job_id(self, job_id: str) -> str:
        """The full id of your one job whose id starts with `job_id` (as `tts jobs` shows
        ids); a full id as it is, asking nothing. NotFound when none starts so,
        AmbiguousJobId (with the candidates) when several do."""
        if _job_ids.is_full(job_id):
            return job_id
        start = _job_ids.start_of(job_id)
        jobs = [job async for job in self.iter_jobs(page_size=_job_ids.PAGE_SIZE)]
        return _job_ids.pick(start, jobs)

    async def wait(
        self,
        job_id: str,
        progress: Progress | None = None,
        timeout: float | None = None,
        raise_on_failure: bool = False,
    ) -> JobStatus:
        """Until the job completes or fails; `progress` gets each new status. Follows the job's
        event feed (GET /jobs/{id}/events) where the server has one, else polls /status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        final = await self._follow_events(job_id, progress, deadline)
        if final is None:
            final = await self._poll(job_id, progress, deadline)
        if raise_on_failure and final.status == "failed":
            raise JobFailed(final)
        return final

    async def download(self, job_id: str, path: str | Path) -> Path:
        """The finished job's audio into `path` (written whole, or not at all)."""
        return await self._save(f"/result/{job_id}/audio", {}, Path(path))

    async def stream(self, job_id: str, path: str | Path) -> Path:
        """The audio as it is made (?stream=true) into `path`, returning when the job is done."""
        return await self._save(f"/result/{job_id}/audio", {"stream": "true"}, Path(path))

    async def block_field(self, name: str) -> str | None:
        """How the server's blocks take `chapter`, or None (from its OpenAPI document)."""
        if self._openapi is None:
            self._openapi = await self._json("GET", "/openapi.json", auth=False)
        return _core.chapter_field(self._openapi) if name == "chapter" else None

    async def create_api_key(self, name: str | None = None) -> dict:
        return await self._json("POST", "/keys", json={"name": name} if name else {})

    async def delete_api_key(self, key_id: str) -> None:
        await (await self._send("DELETE", f"/keys/{key_id}")).aclose()

    # -- plumbing -------------------------------------------------------------------------

    async def _follow_events(self, job_id, progress, deadline) -> JobStatus | None:
        """The final status by the event feed; None where there is none (or it broke off)."""
        path = _core.EVENTS_PATH.format(job_id=job_id)
        headers = {"Accept": "text/event-stream"}
        try:
            response = await self._send(
                "GET", path, stream=True, headers=headers, ok=_core.NO_EVENTS
            )
        except Unreachable:
            return None
        async with contextlib.aclosing(response):
            if response.status_code in _core.NO_EVENTS:
                return None
            parser = _core.EventParser()
            try:
                async for line in response.aiter_lines():
                    status = _core.status_event(*(parser.feed(line) or ("", "")))
                    if status is None:
                        continue
                    await _tell(progress, status)
                    if status.finished:
                        return status
                    if deadline is not None and time.monotonic() > deadline:
                        raise TimeoutError(f"job {job_id} did not finish in time")
            except httpx.TransportError:
                return None  # the feed broke off: polling picks up from here
        return None

    async def _poll(self, job_id, progress, deadline) -> JobStatus:
        pace = _core.Poll(self.poll_interval)
        while True:
            status = await self.status(job_id)
            if pace.changed(status):
                await _tell(progress, status)
            if status.finished:
                return status
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} did not finish in time")
            await asyncio.sleep(pace.interval)

    async def _save(self, path: str, params: dict, target: Path) -> Path:
        partial = target.with_name(target.name + ".part")
        response = await self._send("GET", path, stream=True, params=params)
        async with contextlib.aclosing(response):
            with partial.open("wb") as out:
                try:
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
                except httpx.TransportError as exc:
                    partial.unlink(missing_ok=True)
                    raise Unreachable(f"the download broke off: {exc}") from exc
        partial.replace(target)
        return target

    async def _json(self, method: str, path: str, auth: bool = True, **kwargs):
        response = await self._send(method, path, auth=auth, **kwargs)
        return response.json()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        stream: bool = False,
        ok: tuple[int, ...] = (),
        headers: dict | None = None,
        **kwargs,
    ) -> httpx.Response:
        """The response, after a fresh token on a 401 and waits on 429/503 as RetryPolicy
        says; an error response (but those in `ok`) raised as its exception."""
        refreshed, attempt = False, 0
        while True:
            if auth and self.credentials.needs_token:
                await self._fetch_token()
            sent = {**(headers or {}), **(self.credentials.header() if auth else {})}
            request = self._http.build_request(method, path, headers=sent, **kwargs)
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                raise Unreachable(f"{self._http.base_url} did not answer: {exc}") from exc
            if response.status_code in ok or not response.is_error:
                return response
            await response.aread()
            await response.aclose()
            expired = response.status_code == 401 and auth and self.credentials.can_refresh
            if expired and not refreshed:  # a token runs out: fetch another, once
                self.credentials.token, refreshed = None, True
                continue
            wait = self.retry_policy.delay(response, attempt)
            if wait is None:
                raise _core.error_from(response)
            if self.on_retry:
                self.on_retry(response, wait)
            await asyncio.sleep(wait)
            attempt += 1

    async def _fetch_token(self) -> None:
        try:
            form = self.credentials.token_form()
            body = await self._json("POST", "/token", auth=False, data=form)
        except AuthError as exc:
            raise AuthError("wrong username or password", exc.status_code, exc.body) from None
        self.credentials.token = body["access_token"]


async def _tell(progress, status: JobStatus) -> None:
    if progress is not None and inspect.isawaitable(result := progress(status)):
        await result
