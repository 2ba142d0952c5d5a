"""Whose request this is: a bearer credential (a JWT, or an API key `tts_sk_...`) checked on
every request against the user it names, as that user is now.

    token    signed by us, unexpired (utils/auth/tokens.py); its `uid` the user's uid; its `cv`
             the user's credential version: a password change since it was issued revokes it
    API key  live (utils/auth/api_keys.py); the uid it was made for the user's uid. A password
             change leaves it working; deleting the user (or its key) revokes it

A user deleted and created again under the same name has another uid (utils/auth/users.py), so
neither the old user's tokens nor its keys are taken for the new user's. A token issued before
tokens carried `uid` and `cv` is refused: its holder signs in again, once.
"""

from __future__ import annotations

from config import Settings
from utils.auth.api_keys import ApiKeys, looks_like_key
from utils.auth.tokens import InvalidToken, claims_of
from utils.auth.users import Identity, UserStore

# Bad signature, expired, unknown or revoked key, no token at all: one answer, since which one
# failed tells nobody more. A revoked but genuine credential says why, to the one who held it.
INVALID = "missing, invalid or expired token"
LEGACY_TOKEN = (
    "token issued before tokens named their user's id: sign in again (POST /token) for a new one"
)
PASSWORD_CHANGED = (
    "token revoked: the password changed after it was issued; sign in again (POST /token)"
)
TOKEN_USER_GONE = "token revoked: the user it was issued to was deleted"
KEY_USER_GONE = "API key revoked: the user it was made for was deleted"


class Refused(Exception):
    """Why a credential is refused; the message is safe to show whoever sent it."""


def identify(
    token: str | None, settings: Settings, users: UserStore, api_keys: ApiKeys
) -> Identity:
    """The user the credential names, if it is still theirs; else Refused."""
    if not token:
        raise Refused(INVALID)
    if looks_like_key(token):
        return _key_user(token, users, api_keys)
    try:
        claims = claims_of(token, settings)
    except InvalidToken:
        raise Refused(INVALID) from None
    if claims.uid is None:
        raise Refused(LEGACY_TOKEN)
    identity = users.identity(claims.subject)
    if identity is None or identity.uid != claims.uid:
        raise Refused(TOKEN_USER_GONE)
    if identity.cred_version != claims.cred_version:
        raise Refused(PASSWORD_CHANGED)
    return identity


def _key_user(key: str, users: UserStore, api_keys: ApiKeys) -> Identity:
    holder = api_keys.holder_of(key)
    if holder is None:
        raise Refused(INVALID)
    identity = users.identity(holder.owner)
    if identity is not None and holder.uid is None:
        # A key made before uids, read before its user was given one: identity() has just
        # bound the user's keys, so read it again.
        holder = api_keys.holder_of(key)
    if identity is None or holder is None or holder.uid != identity.uid:
        raise Refused(KEY_USER_GONE)
    return identity
