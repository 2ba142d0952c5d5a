"""Signed links: a URL that grants one thing on one job until it expires, with no token in it,
for an <audio> element (which cannot send an Authorization header) or a link to share.

    sig = hex HMAC-SHA256(SECRET_KEY, "tts-link|{scope}|{job_id}|{exp}")

`exp` is a Unix time. The prefix and the scope keep a link's signature from serving any other
purpose, and a JWT's signing input never has this shape. A link cannot be revoked before it
expires, which is why it is short-lived (AUDIO_LINK_TTL).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from config import Settings

AUDIO = "audio"  # the final audio of a job, as a file or streamed


class InvalidLink(Exception):
    """Why a link does not grant access; safe to show the client."""


@dataclass(frozen=True)
class SignedLink:
    expires_at: int
    signature: str

    @property
    def query(self) -> dict[str, str]:
        return {"exp": str(self.expires_at), "sig": self.signature}


def _signature(job_id: str, scope: str, expires_at: int, settings: Settings) -> str:
    message = f"tts-link|{scope}|{job_id}|{expires_at}".encode()
    key = settings.SECRET_KEY.get_secret_value().encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(job_id: str, scope: str, settings: Settings, now: float | None = None) -> SignedLink:
    expires_at = int(now if now is not None else time.time()) + settings.AUDIO_LINK_TTL
    return SignedLink(expires_at, _signature(job_id, scope, expires_at, settings))


def verify(
    job_id: str,
    scope: str,
    expires_at: int,
    signature: str,
    settings: Settings,
    now: float | None = None,
) -> None:
    """Return if the link is ours, for this job and scope, and unexpired; else InvalidLink.

    The signature is checked first, so a changed `exp` reads as a bad signature, and compared
    in constant time, so its bytes cannot be guessed one by one from response times."""
    expected = _signature(job_id, scope, expires_at, settings)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise InvalidLink(
            f"invalid link: the signature does not match this job's {scope} link "
            f"(wrong job, or exp or sig changed)"
        )
    if expires_at <= (now if now is not None else time.time()):
        raise InvalidLink(
            f"link expired at {expires_at} (Unix time); GET /result/{job_id} gives a new one"
        )
