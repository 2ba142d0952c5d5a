"""Interactive docs at /docs that work offline: Swagger UI's files are served by the app itself,
from the swagger-ui-bundle-v2 wheel, instead of FastAPI's default CDN, so the page is not blank
on a machine without internet. ReDoc has no such wheel and is off.

Also the descriptions of the OpenAPI document that name the output formats, written from
utils/audio/formats.py so that a new format is described where it is added."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from utils.audio.formats import FAMILIES

DOCS = "/docs"
ASSETS = f"{DOCS}/assets"
OAUTH2_REDIRECT = f"{DOCS}/oauth2-redirect"
_NAMES = {"opus": "Opus"}  # the others: the family's name in capitals
_NOTES = {"pcm": "raw s16le mono"}


def describe_audio_formats() -> str:
    """Each output format with its content type: `MP3 audio/mpeg, ..., AAC audio/mp4 (.m4a;
    streamed as audio/aac), ...`."""
    described = []
    for family in FAMILIES.values():
        notes = [_NOTES[family.name]] if family.name in _NOTES else []
        if family.content_type == "audio/mp4":  # one type, two extensions: say which
            notes.append(f".{family.extension}")
        if not family.streams_as_file:
            notes.append(f"streamed as {family.stream_content_type}")
        name = _NAMES.get(family.name, family.name.upper())
        described.append(
            f"{name} {family.content_type}" + (f" ({'; '.join(notes)})" if notes else "")
        )
    return ", ".join(described)


API_DESCRIPTION = (
    "Ordered text blocks in, one audio file out in the job's output format, synthesized in "
    f"parallel by workers. Output formats and their content types: {describe_audio_formats()}."
)


def install_docs(app: FastAPI) -> None:
    """/docs and its assets; the app must be built with docs_url=None and redoc_url=None."""
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get(DOCS, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{app.title} - docs",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT,
            # Swagger UI would otherwise send the schema to an online validator.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
