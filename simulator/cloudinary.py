"""Cloudinary's upload API, Admin API (list and delete by prefix) and delivery URLs, as the
official SDK calls them. Objects live in memory, each with the time it was uploaded."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

# What follows /{cloud}/{resource_type}/{type}/ in a delivery URL: an optional signature
# (s--...--), an optional version (v123), the public id, an optional extension.
_DELIVERY_RE = re.compile(r"^(?:s--[^/]+--/)?(?:v\d+/)?(?P<public_id>.+?)(?:\.\w{2,4})?$")


@dataclass
class Upload:
    data: bytes
    created: float  # epoch seconds


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def add_cloudinary_routes(app: FastAPI, state, error) -> None:
    @app.post("/v1_1/{cloud}/{resource_type}/upload")
    async def upload(cloud: str, resource_type: str, request: Request) -> Response:
        form = await request.form()
        if not form.get("api_key") or not form.get("signature"):
            return error(401, "missing api_key or signature")
        file = form["file"]
        if hasattr(file, "read"):
            data = await file.read()
        else:  # a remote URL, which Cloudinary fetches itself
            async with httpx.AsyncClient(timeout=30) as client:
                fetched = await client.get(str(file))
            if fetched.status_code != 200:
                return error(400, f"could not fetch {file}: HTTP {fetched.status_code}")
            data = fetched.content
        public_id = str(form.get("public_id") or uuid.uuid4().hex)
        now = time.time()
        state.uploads[public_id] = Upload(data, now)
        base = str(request.base_url).rstrip("/")
        url = f"{base}/cloudinary/{cloud}/{resource_type}/upload/v{int(now)}/{public_id}.mp3"
        return JSONResponse(
            {
                "public_id": public_id,
                "version": int(now),
                "resource_type": resource_type,
                "type": "upload",
                "bytes": len(data),
                "created_at": _iso(now),
                "url": url,
                "secure_url": url,
            }
        )

    @app.get("/v1_1/{cloud}/resources/{resource_type}/upload")
    async def list_resources(cloud: str, resource_type: str, request: Request) -> Response:
        if "authorization" not in request.headers:
            return error(401, "missing credentials")
        prefix = request.query_params.get("prefix", "")
        page = int(request.query_params.get("max_results", 10))
        start = int(request.query_params.get("next_cursor") or 0)
        matching = sorted(p for p in state.uploads if p.startswith(prefix))
        resources = [
            {
                "public_id": p,
                "resource_type": resource_type,
                "type": "upload",
                "bytes": len(state.uploads[p].data),
                "created_at": _iso(state.uploads[p].created),
            }
            for p in matching[start : start + page]
        ]
        body = {"resources": resources}
        if start + page < len(matching):
            body["next_cursor"] = str(start + page)
        return JSONResponse(body)

    @app.delete("/v1_1/{cloud}/resources/{resource_type}/upload")
    async def delete_resources(cloud: str, resource_type: str, request: Request) -> Response:
        if "authorization" not in request.headers:
            return error(401, "missing credentials")
        body = await request.json() if await request.body() else {}  # the SDK sends JSON
        ids = [*body.get("public_ids", []), *request.query_params.getlist("public_ids[]")]
        deleted = {p: "deleted" if state.uploads.pop(p, None) else "not_found" for p in ids}
        return JSONResponse({"deleted": deleted})

    @app.get("/cloudinary/{cloud}/{resource_type}/{kind}/{rest:path}")
    async def delivery(cloud: str, resource_type: str, kind: str, rest: str) -> Response:
        match = _DELIVERY_RE.match(rest)
        upload = state.uploads.get(match.group("public_id")) if match else None
        if upload is None:
            return error(404, "resource not found")
        return Response(upload.data, media_type="audio/mpeg")

    @app.post("/_sim/uploads/age")
    async def age_uploads(body: dict) -> dict:
        """Make the uploads under a prefix look `seconds` older (for purge tests)."""
        aged = [p for p in state.uploads if p.startswith(body.get("prefix", ""))]
        for public_id in aged:
            state.uploads[public_id].created -= float(body["seconds"])
        return {"aged": len(aged)}
