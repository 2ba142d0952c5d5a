"""Every error is a response: after a 500 the keep-alive connection it came on still serves the
next request (uvicorn closed it, and the client's next request failed with a reset)."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from api.main import create_app
from tests.helpers import served


def test_a_500_leaves_the_connection_usable(service_redis):
    app = create_app()

    @app.get("/test-only/boom")
    def boom():
        raise RuntimeError("a fault in the code, not the request")

    with served(app) as url:
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            connection.request("GET", "/test-only/boom")
            failed = connection.getresponse()
            body = failed.read()
            assert failed.status == 500
            assert b"internal error" in body and b"a fault in the code" not in body
            # the same connection, on: a reset here is what this test is for
            connection.request("GET", "/live")
            after = connection.getresponse()
            after.read()
            assert after.status == 200
        finally:
            connection.close()
