"""WEBHOOK_*: delivering a job's outcome to its callback_url (utils/webhooks/, workers/webhooks.py).

Addresses that are not globally routable (loopback, private, link-local, CGNAT, ...) are
refused, at submit and again at delivery against the address connected to, unless
WEBHOOK_ALLOW_PRIVATE or the host is listed in WEBHOOK_ALLOWED_HOSTS. One attempt waits
WEBHOOK_TIMEOUT_S; then retries come after BASE, 2 x BASE, 4 x BASE ... (at most CAP apart) for
WEBHOOK_RETRY_FOR_S after the first attempt. Due attempts are sent by beat every
WEBHOOK_SWEEP_INTERVAL_S (workers/webhooks.py says why not by countdown).
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from settings.base import group_config
from settings.parsing import LowercaseList


class WebhookSettings(BaseSettings):
    """Webhooks: where they may go, how long an attempt waits, how retries are spread."""

    model_config = group_config("WEBHOOK_")

    allow_private: bool = False
    """Allow addresses that are not globally routable."""
    allowed_hosts: LowercaseList = []
    """Hosts exempt from that check: names or addresses as the URL writes them
    (comma-separated or a JSON list)."""
    timeout_s: float = Field(default=10.0, gt=0, le=60)
    """Seconds one attempt may take."""
    retry_base_s: float = Field(default=30.0, gt=0)
    """Seconds before the first retry; each next one waits twice as long."""
    retry_cap_s: float = Field(default=3600.0, gt=0)
    """The most seconds between two attempts."""
    retry_for_s: int = Field(default=8 * 3600, ge=0)
    """Seconds after the first attempt during which failed attempts are retried."""
    sweep_interval_s: float = Field(default=5.0, gt=0)
    """Seconds between beat's looks for due attempts."""

    @field_validator("allowed_hosts")
    @classmethod
    def _unbracketed(cls, value: list[str]) -> list[str]:
        return [host.strip("[]") for host in value]  # [::1] as a URL writes it: ::1
