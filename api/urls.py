"""The URLs handed to clients: under PUBLIC_BASE_URL where it is set, else under the address
the request came in on, whose host ALLOWED_HOSTS has vouched for (api/main.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request

from config import Settings
from utils.auth.links import AUDIO, SignedLink, sign
from utils.storage.base import Storage


def api_url(
    request: Request, settings: Settings, route: str, query: dict[str, str] | None = None, **params
) -> str:
    path = request.app.url_path_for(route, **{k: str(v) for k, v in params.items()})
    base = settings.PUBLIC_BASE_URL.rstrip("/") or str(request.base_url).rstrip("/")
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


def audio_url(
    request: Request, settings: Settings, storage: Storage, key: str, route: str, **params
) -> str:
    """The storage's own URL where it has one (Cloudinary), else this API's audio endpoint."""
    return storage.url(key) or api_url(request, settings, route, **params)


def signed_audio_url(
    request: Request, settings: Settings, job_id: str, stream: bool = False
) -> tuple[str, SignedLink]:
    """The final audio's endpoint with a signature in place of a token (utils/auth/links.py)."""
    link = sign(job_id, AUDIO, settings)
    query = {**({"stream": "true"} if stream else {}), **link.query}
    return api_url(request, settings, "final_audio", query, job_id=job_id), link
