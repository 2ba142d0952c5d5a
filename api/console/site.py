"""The web console: the page at / and its files under /console/, from static/ next to this
module. Nothing comes from another host, so it works offline.

The page is filled in once, when the app is built, with what only the server knows: the output
formats (utils/audio/formats.py, their one home) and the defaults of this deployment.

Every response carries a Content-Security-Policy that allows scripts, styles and requests from
this origin alone: a script injected into the page could not run, nor send the token away.
Audio may also come from PUBLIC_BASE_URL, where the signed links handed out point.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from config import Settings
from utils.audio.formats import output_format_names

STATIC = Path(__file__).parent / "static"
ASSETS = "/console"
FORMAT_OPTIONS = "<!--FORMAT_OPTIONS-->"
DEFAULT_PROVIDER = "<!--DEFAULT_PROVIDER-->"


def content_security_policy(settings: Settings) -> str:
    media = "'self' blob:"  # blob: voice previews, fetched with the token
    if settings.PUBLIC_BASE_URL:
        parts = urlsplit(settings.PUBLIC_BASE_URL)
        media += f" {parts.scheme}://{parts.netloc}"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "connect-src 'self'",
            f"media-src {media}",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


def console_headers(settings: Settings) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def render_page(settings: Settings) -> str:
    """index.html with the output formats as <option>s, the default one selected."""
    options = "".join(
        f'<option value="{escape(name)}"'
        f"{' selected' if name == settings.DEFAULT_OUTPUT_FORMAT else ''}>{escape(name)}</option>"
        for name in output_format_names()
    )
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    return page.replace(FORMAT_OPTIONS, options).replace(
        DEFAULT_PROVIDER, escape(settings.DEFAULT_PROVIDER, quote=True)
    )


class _ConsoleFiles(StaticFiles):
    """StaticFiles with the console's headers on every file."""

    def __init__(self, headers: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        self.extra_headers = headers

    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        response.headers.update(self.extra_headers)
        return response


def install_console(app: FastAPI, settings: Settings) -> None:
    """The console at / (the page) and /console/ (its script and styles)."""
    headers = console_headers(settings)
    app.mount(ASSETS, _ConsoleFiles(headers, directory=str(STATIC)), name="console-assets")
    page = render_page(settings)

    @app.get("/", include_in_schema=False)
    def console() -> HTMLResponse:
        return HTMLResponse(page, headers={**headers, "Cache-Control": "no-cache"})
