"""Webhook bodies: the signing secret (GET /webhooks/secret) and a job's delivery, as
GET /status/{id} shows it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class WebhookSecretOut(BaseModel):
    secret: str = Field(
        description="whsec_ and base64: give it to your receiver's Standard Webhooks library."
    )


class WebhookAttemptOut(BaseModel):
    at: str
    duration_ms: int
    status_code: int | None = Field(default=None, description="The receiver's answer.")
    error: str | None = Field(default=None, description="Why no answer came (timeout, ...).")


class WebhookStatusOut(BaseModel):
    url: str
    event: str | None = Field(default=None, description="job.completed or job.failed.")
    attempts: list[WebhookAttemptOut]
    delivered: bool
    next_attempt_at: str | None = None
    stopped: str | None = Field(default=None, description="Why no attempt follows (410, ...).")
