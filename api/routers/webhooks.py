"""Your webhook signing secret (utils/webhooks/signing_secrets.py): see it, replace it.

Every job's callback is signed with its owner's secret; receivers verify with a Standard
Webhooks library. The answers are never cached: they carry the secret.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import CurrentUser, WebhookSecretsDep
from api.schemas.webhooks import WebhookSecretOut

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

NO_STORE = {"Cache-Control": "no-store"}


@router.get("/secret", response_model=WebhookSecretOut)
def show_secret(response: Response, user: CurrentUser, secrets: WebhookSecretsDep):
    """Your secret, made on first use: your receiver verifies signatures with it."""
    response.headers.update(NO_STORE)
    return WebhookSecretOut(secret=secrets.get(user.username))


@router.post("/secret/rotate", response_model=WebhookSecretOut)
def rotate_secret(response: Response, user: CurrentUser, secrets: WebhookSecretsDep):
    """A new secret in place of the old; every attempt from now on (retries of earlier jobs
    too) is signed with the new one."""
    response.headers.update(NO_STORE)
    return WebhookSecretOut(secret=secrets.rotate(user.username))
