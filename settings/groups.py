"""The groups of settings (settings/: one module each, with its env prefix), as the fields of
config.Settings: `settings.s3.bucket` is S3_BUCKET. Kept apart from config.py, which holds the
general settings and the checks across them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from settings.base import SHARED_CONFIG
from settings.books import BookSettings
from settings.cluster import LivenessSettings, SentinelSettings
from settings.cors import CorsSettings
from settings.hub import HubSettings
from settings.lexicons import LexiconSettings
from settings.local_models import KokoroSettings, LocalModelSettings
from settings.piper import PiperSettings
from settings.projects import ProjectSettings
from settings.rate_limits import RateLimitSettings
from settings.speech import SpeechSettings
from settings.storage import CloudinarySettings, S3Settings
from settings.user_accounts import UserAccountSettings
from settings.webhooks import WebhookSettings
from settings.wyoming import WyomingSettings


class SettingGroups(BaseSettings):
    model_config = SettingsConfigDict(**SHARED_CONFIG)

    # One field per group; a group reads its own settings (settings/base.py). NoDecode: an
    # environment variable named like the field (S3=...) is not read as the group's JSON.
    s3: Annotated[S3Settings, NoDecode] = Field(default_factory=S3Settings)
    """S3 storage, on AWS or any S3-compatible store."""
    cloudinary: Annotated[CloudinarySettings, NoDecode] = Field(default_factory=CloudinarySettings)
    """Cloudinary storage."""
    piper: Annotated[PiperSettings, NoDecode] = Field(default_factory=PiperSettings)
    """The Piper voice catalogue."""
    local: Annotated[LocalModelSettings, NoDecode] = Field(default_factory=LocalModelSettings)
    """Where local engines run (LOCAL_DEVICE)."""
    kokoro: Annotated[KokoroSettings, NoDecode] = Field(default_factory=KokoroSettings)
    """Kokoro-82M's repository, revision and precision."""
    hf: Annotated[HubSettings, NoDecode] = Field(default_factory=HubSettings)
    """The Hugging Face Hub (models of local engines)."""
    speech: Annotated[SpeechSettings, NoDecode] = Field(default_factory=SpeechSettings)
    """The OpenAI-compatible speech endpoint."""
    rate_limit: Annotated[RateLimitSettings, NoDecode] = Field(default_factory=RateLimitSettings)
    """Rate limits."""
    webhook: Annotated[WebhookSettings, NoDecode] = Field(default_factory=WebhookSettings)
    """Webhooks (a job's callback_url)."""
    user_account: Annotated[UserAccountSettings, NoDecode] = Field(
        default_factory=UserAccountSettings
    )
    """Users' own provider accounts."""
    wyoming: Annotated[WyomingSettings, NoDecode] = Field(default_factory=WyomingSettings)
    """The Wyoming server (Home Assistant)."""
    lexicons: Annotated[LexiconSettings, NoDecode] = Field(default_factory=LexiconSettings)
    """Pronunciation lexicons: limits, and the operator's own."""
    cors: Annotated[CorsSettings, NoDecode] = Field(default_factory=CorsSettings)
    """Browser pages on other origins (CORS, and the WebSockets' Origin check)."""
    projects: Annotated[ProjectSettings, NoDecode] = Field(default_factory=ProjectSettings)
    """Projects (kept scripts) and voice previews."""
    books: Annotated[BookSettings, NoDecode] = Field(default_factory=BookSettings)
    """EPUB books (POST /tts/book): upload and expansion limits, block size."""
    liveness: Annotated[LivenessSettings, NoDecode] = Field(default_factory=LivenessSettings)
    """Worker heartbeats: how soon a dead process's blocks are sent again."""
    sentinel: Annotated[SentinelSettings, NoDecode] = Field(default_factory=SentinelSettings)
    """Redis through Sentinel (a REDIS_URL of sentinel:// addresses)."""
