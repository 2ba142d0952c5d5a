"""Fuzzing: schemathesis generates requests from our own /openapi.json; none may answer 5xx."""

import pytest
import redis
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.main import create_app
from config import Settings
from utils.auth.tokens import create_access_token
from utils.auth.users import UserStore

FUZZ_DB = 4  # no worker consumes here: accepted fuzz jobs just wait in the queue
EXAMPLES_PER_OPERATION = 40


@pytest.fixture
def fuzz_app(redis_server):
    url = f"redis://127.0.0.1:{redis_server.port}/{FUZZ_DB}"
    redis.Redis.from_url(url).flushdb()
    # no worker: a valid speech request answers 504 after this long instead of waiting
    app_settings = Settings(
        REDIS_URL=url, RATE_LIMIT_ENABLED=False, SPEECH_FIRST_PIECE_TIMEOUT_S=0.2
    )
    app = create_app(app_settings)
    with TestClient(app):  # runs the lifespan: clients on app.state
        users = UserStore(app.state.redis)
        users.set_password("fuzzer", "fuzzer-password")
        who = users.identity("fuzzer")
        app.state.fuzz_token = create_access_token(
            "fuzzer", app_settings, uid=who.uid, cred_version=who.cred_version
        ).token
        yield app


def test_no_request_makes_the_service_fail(fuzz_app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    headers = {"Authorization": f"Bearer {fuzz_app.state.fuzz_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9  # every endpoint is fuzzed
    seen: set[int] = set()

    def no_server_error(cases: st.SearchStrategy, max_examples: int) -> None:
        @given(case=cases)
        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            response = case.call(headers=headers)
            seen.add(response.status_code)
            if response.status_code == 504 and case.formatted_path == "/v1/audio/speech":
                # accepted, and nothing here makes audio: the bounded wait, said OpenAI's way
                assert "no audio within" in response.json()["error"]["message"]
                return
            if response.status_code == 503 and case.formatted_path == "/ready":
                # the readiness probe's answer with no worker here, naming what fails
                assert response.json()["failing"] == ["workers"]
                return
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)

        check()

    for operation in operations:
        documented = operation.get_strategies_from_examples()
        if documented:  # the schema's own examples are valid requests: they must be accepted
            no_server_error(st.one_of(documented), max_examples=3)
        no_server_error(operation.as_strategy(), max_examples=EXAMPLES_PER_OPERATION)
    # the token worked, and valid jobs were sent as well as rejected ones
    assert {200, 202, 404, 422} <= seen, seen
