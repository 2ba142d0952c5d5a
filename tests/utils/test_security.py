import time

import pytest
from jose import jwt
from pydantic import ValidationError

from config import Settings
from utils.auth.passwords import hash_password, verify_password
from utils.auth.tokens import InvalidToken, claims_of, create_access_token, subject_of

SETTINGS = Settings(SECRET_KEY="k" * 40)


def test_passwords_are_hashed_with_argon2_and_verified():
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2") and "correct horse" not in hashed
    assert verify_password("correct horse", hashed)
    assert not verify_password("wrong", hashed)
    assert not verify_password("anything", None)


def test_a_token_carries_its_subject_uid_credential_version_and_expiry():
    token = create_access_token("alice", SETTINGS, uid="u1", cred_version=3)
    assert subject_of(token.token, SETTINGS) == "alice"
    claims = claims_of(token.token, SETTINGS)
    assert (claims.subject, claims.uid, claims.cred_version) == ("alice", "u1", 3)
    raw = jwt.get_unverified_claims(token.token)
    assert raw["exp"] - raw["iat"] == token.expires_in == 3600


def test_a_token_from_before_uids_reads_as_having_none():
    legacy = jwt.encode({"sub": "alice", "exp": int(time.time()) + 60}, "k" * 40, "HS256")
    claims = claims_of(legacy, SETTINGS)
    assert (claims.subject, claims.uid, claims.cred_version) == ("alice", None, None)


@pytest.mark.parametrize(
    "token",
    [
        jwt.encode({"sub": "alice", "exp": int(time.time()) - 5}, "k" * 40, algorithm="HS256"),
        jwt.encode({"sub": "alice", "exp": int(time.time()) + 60}, "other" * 10, algorithm="HS256"),
        jwt.encode({"sub": "alice"}, "k" * 40, algorithm="HS256"),  # no exp
        jwt.encode({"exp": int(time.time()) + 60}, "k" * 40, algorithm="HS256"),  # no sub
        jwt.encode({"sub": "alice", "exp": int(time.time()) + 60}, "k" * 40, algorithm="HS512"),
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6OTk5OTk5OTk5OX0.",
        "not-a-token",
    ],
    ids=["expired", "bad-signature", "no-exp", "no-sub", "other-alg", "alg-none", "garbage"],
)
def test_bad_tokens_are_refused(token):
    with pytest.raises(InvalidToken):
        subject_of(token, SETTINGS)


@pytest.mark.parametrize("secret", ["dev-secret-key-change-me", "short", "changethis"])
def test_production_refuses_a_weak_secret(secret):
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(ENVIRONMENT="production", SECRET_KEY=secret)
    Settings(ENVIRONMENT="development", SECRET_KEY=secret)  # fine while developing


def test_the_secret_never_shows_in_settings_output():
    settings = Settings(SECRET_KEY="s3cr3t-" * 6)
    assert "s3cr3t" not in repr(settings) and "s3cr3t" not in str(settings.model_dump())
