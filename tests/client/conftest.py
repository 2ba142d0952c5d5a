"""The client package against the running service: a real uvicorn on loopback (served) and
the session's real Celery worker."""

from __future__ import annotations

import pytest

from tests.helpers import served


@pytest.fixture
def service_url(service_redis, users, worker):
    from api.main import create_app

    with served(create_app()) as url:
        yield url
