import time

from jose import jwt

from tests.helpers import bearer

SECRET = "test-secret-key-that-is-long-enough-0123456789"
SOME_JOB = "/status/8a1b6d3e-5c52-4c1e-9a4e-3f1c2b7d9e10"


def test_token_endpoint_issues_a_bearer_token(app, users):
    response = app.post("/token", data={"username": "alice", "password": "alice-password"})
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert jwt.decode(body["access_token"], SECRET, algorithms=["HS256"])["sub"] == "alice"


def test_wrong_password_and_unknown_user_get_401(app, users):
    assert app.post("/token", data={"username": "alice", "password": "nope"}).status_code == 401
    assert app.post("/token", data={"username": "mallory", "password": "x" * 10}).status_code == 401


def test_the_admin_from_the_environment_can_log_in(app):
    assert (
        app.post("/token", data={"username": "admin", "password": "admin-password"}).status_code
        == 200
    )


def test_job_endpoints_refuse_missing_and_bad_tokens(app, users):
    now = int(time.time())
    bad = {
        "no token": {},
        "bad signature": jwt.encode({"sub": "alice", "exp": now + 60}, "wrong-key" * 5, "HS256"),
        "expired": jwt.encode({"sub": "alice", "exp": now - 10}, SECRET, "HS256"),
        "alg none": "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
        + "eyJzdWIiOiJhbGljZSIsImV4cCI6OTk5OTk5OTk5OX0.",
        "deleted user": jwt.encode({"sub": "ghost", "exp": now + 60}, SECRET, "HS256"),
    }
    for case, token in bad.items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for method, path in (("GET", SOME_JOB), ("POST", "/tts"), ("GET", "/tts/providers")):
            response = app.request(method, path, headers=headers, json={"blocks": []})
            assert response.status_code == 401, (case, path, response.text)
            assert response.headers["www-authenticate"] == "Bearer"


def test_a_valid_token_passes(app, users):
    assert app.get("/tts/providers", headers=bearer(app, "alice")).status_code == 200
