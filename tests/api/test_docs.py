"""/docs works offline: the page names no other host, and the app serves every file it loads."""

import re


def referenced(html: str) -> list[str]:
    """What the page loads: stylesheets, icons, scripts, and the schema Swagger UI fetches."""
    return re.findall(r'(?:href|src)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)


def test_the_docs_page_names_no_other_host(app):
    response = app.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "SwaggerUIBundle(" in html
    assert not re.search(r"(https?:)?//[a-z0-9]", html, re.IGNORECASE), html
    assert '"validatorUrl": null' in html  # no schema sent to an online validator


def test_every_file_the_docs_page_loads_is_served_by_the_app(app):
    paths = referenced(app.get("/docs").text)
    assert {p.rsplit(".", 1)[-1] for p in paths} == {"css", "png", "js", "json"}, paths
    for path in paths:
        assert path.startswith("/"), path
        response = app.get(path)
        assert response.status_code == 200, path
        assert response.content, path
    script = app.get(next(p for p in paths if p.endswith(".js"))).text
    assert "SwaggerUIBundle" in script
    assert app.get("/openapi.json").json()["openapi"].startswith("3.1")  # Swagger UI 5 reads it


def test_the_oauth2_redirect_page_is_served_and_redoc_is_off(app):
    redirect = app.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200 and "oauth2" in redirect.text.lower()
    assert app.get("/redoc").status_code == 404


def test_the_schema_describes_the_audio_in_each_output_format(app):
    document = app.get("/openapi.json").json()
    described = [
        ("MP3", "audio/mpeg"),
        ("WAV", "audio/wav"),
        ("PCM", "application/octet-stream"),
        ("FLAC", "audio/flac"),
        ("Opus", "audio/ogg"),
        ("AAC", "audio/mp4 (.m4a"),
        ("M4B", "audio/mp4 (.m4b"),
    ]
    audio = [
        document["paths"][path][method]["responses"]["200"]["description"]
        for path in ("/result/{job_id}/audio", "/result/{job_id}/block/{index}/audio")
        for method in ("get", "head")
    ]
    for description in [document["info"]["description"], *audio]:
        assert all(f"{name} {content_type}" in description for name, content_type in described)
    assert "one MP3 out" not in document["info"]["description"]
    zip_url = document["components"]["schemas"]["JobResultOut"]["properties"]["zip_url"]
    assert "MP3" not in zip_url["description"]
