"""The blocking client: TTSClient(url, api_key=...) or (url, username=..., password=...).

with TTSClient("http://127.0.0.1:8000", api_key="tts_sk_...") as tts:
    job = tts.submit(["Hello.", "Goodbye."], wait_after_ms=400)
    tts.wait(job.job_id, progress=lambda s: print(s.progress))
    tts.download(job.job_id, "hello.mp3")
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
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


class TTSClient:
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
        transport: httpx.BaseTransport | None = None,
    ):
        self.credentials = _core.Credentials(api_key, username, password)
        self.retry_policy = retry or _core.RetryPolicy()
        self.poll_interval = poll_interval
        self.on_retry = on_retry  # told of each 429/503 waited out: (response, seconds)
        self._openapi: dict | None = None
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": _core.USER_AGENT},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TTSClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the API --------------------------------------------------------------------------

    def submit(self, blocks=None, **options) -> JobAccepted:
        """Submit a job: blocks (strings, dicts or Blocks), or text=, ssml= or job= (a whole
        body); provider, voice, speed, wait_after_ms fill blocks that do not set them;
        output_format, combine as the API takes them."""
        body = _core.job_body(blocks, **options)
        return JobAccepted.model_validate(self._json("POST", "/tts", json=body))

    def submit_book(self, epub: str | Path | bytes, **options) -> JobAccepted:
        """Submit an EPUB (a path or its bytes) as one chaptered job: provider, voice, speed,
        output_format, pause_ms, chapter_pause_ms, loudness as POST /tts/book takes them."""
        data = epub if isinstance(epub, bytes) else Path(epub).read_bytes()
        params = {k: v for k, v in options.items() if v is not None}
        headers = {"Content-Type": _core.EPUB_TYPE}
        answer = self._json("POST", _core.BOOK_PATH, content=data, params=params, headers=headers)
        return JobAccepted.model_validate(answer)

    def status(self, job_id: str) -> JobStatus:
        return JobStatus.model_validate(self._json("GET", f"/status/{job_id}"))

    def result(self, job_id: str) -> JobResult:
        return JobResult.model_validate(self._json("GET", f"/result/{job_id}"))

    def retry(self, job_id: str) -> JobAccepted:
        return JobAccepted.model_validate(self._json("POST", f"/tts/{job_id}/retry"))

    def cancel(self, job_id: str, purge: bool = False) -> JobCancelled:
        """Cancel a queued or processing job (again: the same answer); purge=True also deletes
        its audio, a finished job's too. Conflict (409) for a job combining or finished."""
        params = {"purge": "true"} if purge else {}
        return JobCancelled.model_validate(self._json("DELETE", f"/jobs/{job_id}", params=params))

    def providers(self) -> list[Provider]:
        return [Provider.model_validate(p) for p in self._json("GET", "/tts/providers")]

    def voices(self, provider: str) -> list[Voice]:
        return [Voice.model_validate(v) for v in self._json("GET", f"/tts/voices/{provider}")]

    def jobs(
        self, limit: int = 20, cursor: str | None = None, offset: int | None = None
    ) -> JobPage:
        """One page of your jobs, newest first; page on with next_cursor."""
        params = {"limit": limit, "cursor": cursor, "offset": offset}
        params = {k: v for k, v in params.items() if v is not None}
        return JobPage.model_validate(self._json("GET", "/jobs", params=params))

    def iter_jobs(self, page_size: int = 50) -> Iterator[JobSummary]:
        cursor = None
        while True:
            page = self.jobs(limit=page_size, cursor=cursor)
            yield from page.jobs
            if not (cursor := page.next_cursor):
                return

    def resolve_job_id(self, job_id: str) -> str:
        """The full id of your one job whose id starts with `job_id` (as `tts jobs` shows
        ids); a full id as it is, asking nothing. NotFound when none starts so,
        AmbiguousJobId (with the candidates) when several do."""
        if _job_ids.is_full(job_id):
            return job_id
        start = _job_ids.start_of(job_id)
        return _job_ids.pick(start, self.iter_jobs(page_size=_job_ids.PAGE_SIZE))

    def wait(
        self,
        job_id: str,
        progress: Progress | None = None,
        timeout: float | None = None,
        raise_on_failure: bool = False,
    ) -> JobStatus:
        """Until the job completes or fails; `progress` gets each new status. Follows the job's
        event feed (GET /jobs/{id}/events) where the server has one, else polls /status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        final = self._follow_events(job_id, progress, deadline)
        if final is None:
            final = self._poll(job_id, progress, deadline)
        if raise_on_failure and final.status == "failed":
            raise JobFailed(final)
        return final

    def download(self, job_id: str, path: str | Path) -> Path:
        """The finished job's audio into `path` (written whole, or not at all)."""
        return self._save(f"/result/{job_id}/audio", {}, Path(path))

    def stream(self, job_id: str, path: str | Path) -> Path:
        """The audio as it is made (?stream=true) into `path`, returning when the job is done."""
        return self._save(f"/result/{job_id}/audio", {"stream": "true"}, Path(path))

    def block_field(self, name: str) -> str | None:
        """How the server's blocks take `chapter`, or None (from its OpenAPI document)."""
        if self._openapi is None:
            self._openapi = self._json("GET", "/openapi.json", auth=False)
        return _core.chapter_field(self._openapi) if name == "chapter" else None

    def create_api_key(self, name: str | None = None) -> dict:
        return self._json("POST", "/keys", json={"name": name} if name else {})

    def delete_api_key(self, key_id: str) -> None:
        self._send("DELETE", f"/keys/{key_id}").close()

    # -- plumbing -------------------------------------------------------------------------

    def _follow_events(self, job_id, progress, deadline) -> JobStatus | None:
        """The final status by the event feed; None where there is none (or it broke off)."""
        path = _core.EVENTS_PATH.format(job_id=job_id)
        headers = {"Accept": "text/event-stream"}
        try:
            response = self._send("GET", path, stream=True, headers=headers, ok=_core.NO_EVENTS)
        except Unreachable:
            return None
        with contextlib.closing(response):
            if response.status_code in _core.NO_EVENTS:
                return None
            parser = _core.EventParser()
            try:
                for line in response.iter_lines():
                    status = _core.status_event(*(parser.feed(line) or ("", "")))
                    if status is None:
                        continue
                    if progress:
                        progress(status)
                    if status.finished:
                        return status
                    if deadline is not None and time.monotonic() > deadline:
                        raise TimeoutError(f"job {job_id} did not finish in time")
            except httpx.TransportError:
                return None  # the feed broke off: polling picks up from here
        return None

    def _poll(self, job_id, progress, deadline) -> JobStatus:
        pace = _core.Poll(self.poll_interval)
        while True:
            status = self.status(job_id)
            if pace.changed(status) and progress:
                progress(status)
            if status.finished:
                return status
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} did not finish in time")
            time.sleep(pace.interval)

    def _save(self, path: str, params: dict, target: Path) -> Path:
        partial = target.with_name(target.name + ".part")
        response = self._send("GET", path, stream=True, params=params)
        with contextlib.closing(response), partial.open("wb") as out:
            try:
                for chunk in response.iter_bytes():
                    out.write(chunk)
            except httpx.TransportError as exc:
                partial.unlink(missing_ok=True)
                raise Unreachable(f"the download broke off: {exc}") from exc
        partial.replace(target)
        return target

    def _json(self, method: str, path: str, auth: bool = True, **kwargs):
        response = self._send(method, path, auth=auth, **kwargs)
        return response.json()

    def _send(
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
                self._fetch_token()
            sent = {**(headers or {}), **(self.credentials.header() if auth else {})}
            request = self._http.build_request(method, path, headers=sent, **kwargs)
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                raise Unreachable(f"{self._http.base_url} did not answer: {exc}") from exc
            if response.status_code in ok or not response.is_error:
                return response
            response.read()
            response.close()
            expired = response.status_code == 401 and auth and self.credentials.can_refresh
            if expired and not refreshed:  # a token runs out: fetch another, once
                self.credentials.token, refreshed = None, True
                continue
            wait = self.retry_policy.delay(response, attempt)
            if wait is None:
                raise _core.error_from(response)
            if self.on_retry:
                self.on_retry(response, wait)
            time.sleep(wait)
            attempt += 1

    def _fetch_token(self) -> None:
        try:
            body = self._json("POST", "/token", auth=False, data=self.credentials.token_form())
        except AuthError as exc:
            raise AuthError("wrong username or password", exc.status_code, exc.body) from None
        self.credentials.token = body["access_token"]
