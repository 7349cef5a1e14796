"""One Settings object for the whole service, read from `DIARIST_*` variables and `.env`.

The flat names (`DIARIST_HOST`, `DIARIST_PORT`, `DIARIST_DATA_DIR`, `DIARIST_DATABASE_URL`, ...)
are top-level fields; deeper knobs live in sections addressed with a double underscore, e.g.
`DIARIST_DB__POOL_TOTAL` or `DIARIST_LOG__FORMAT`.
"""

from __future__ import annotations

import re
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import platformdirs
from fastapi import Depends, Request
from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from diarist.kit.sockets import socket_dir

# Values people paste from examples; refused as a secret key outside development.
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "please-change", "diarist"})


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class DatabaseSettings(BaseModel):
    """Connection pools and statement limits; roles for the embedded server."""

    # Connections of the whole deployment, split among its processes (seed 003: 25, 50 at peak).
    pool_total: int = Field(default=25, ge=2, le=1000)
    pool_max_total: int = Field(default=50, ge=2, le=2000)
    pool_timeout_s: float = Field(default=10.0, gt=0, le=300)
    statement_timeout_ms: int = Field(default=30_000, ge=0, le=3_600_000)
    # Extra server connections kept free for psql, the CLI and maintenance.
    reserved_connections: int = Field(default=20, ge=3, le=1000)
    # Behind PgBouncer in transaction mode server-side prepared statements must be off.
    disable_prepared_statements: bool = False
    owner_url: SecretStr | None = None
    system_url: SecretStr | None = None
    name: str = Field(default="diarist", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    owner_role: str = Field(default="diarist_owner", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    app_role: str = Field(default="diarist_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    system_role: str = Field(default="diarist_system", pattern=r"^[a-z_][a-z0-9_]{0,62}$")


class LogSettings(BaseModel):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "console"] = "json"
    # One line per request (method, path, status, duration); never bodies.
    access: bool = True


class WorkerSettings(BaseModel):
    concurrency: int = Field(default=2, ge=1, le=64)
    queues: list[str] = Field(default_factory=list)


class AuthSettings(BaseModel):
    """Sessions, codes, password policy and brute-force throttling."""

    session_idle_days: float = Field(default=14, gt=0, le=365)
    session_absolute_days: float = Field(default=90, gt=0, le=3650)
    password_min_length: int = Field(default=10, ge=8, le=128)
    code_ttl_minutes: int = Field(default=10, ge=1, le=1440)
    code_max_attempts: int = Field(default=5, ge=1, le=20)
    # Failures answered at full speed before backoff starts, per account and per client address.
    account_free_failures: int = Field(default=5, ge=1, le=100)
    ip_free_failures: int = Field(default=20, ge=1, le=10_000)
    backoff_base_s: float = Field(default=1.0, gt=0, le=60)
    backoff_cap_s: float = Field(default=900.0, gt=0, le=86_400)
    # A counter with no new failure for this long starts again from zero.
    failure_window_hours: float = Field(default=24, gt=0, le=720)


class MailSettings(BaseModel):
    """Outgoing mail (one-time codes, verification, password reset)."""

    backend: Literal["console", "smtp"] = "console"
    from_address: str = "diarist <diarist@localhost>"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=10, gt=0, le=120)


class JournalSettings(BaseModel):
    """Limits of entries and how long the trash keeps them."""

    trash_days: int = Field(default=30, ge=1, le=3650)
    max_raw_data_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    # Any request body; larger ones are refused before they are read.
    max_request_bytes: int = Field(default=2 * 1024 * 1024, ge=4096, le=128 * 1024 * 1024)


class ImportSettings(BaseModel):
    """Imports over the API: the largest upload, kept under the data dir until its job ran."""

    max_upload_bytes: int = Field(default=512 * 1024 * 1024, ge=1024, le=64 * 1024**3)
    # Imports of one user queued or running at once (each keeps its upload on disk meanwhile).
    max_waiting: int = Field(default=3, ge=1, le=100)
    # A Memos server named over the API may be on a private or loopback address (a Memos on
    # the same host or network); off, such addresses are refused (no probing inside).
    memos_allow_private: bool = False


class S3Settings(BaseModel):
    """An S3-compatible bucket for attachments (AWS, MinIO, Garage, Ceph ...)."""

    bucket: str = Field(default="diarist", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    # Unset: AWS itself; otherwise e.g. http://localhost:9000 for MinIO.
    endpoint_url: str | None = Field(default=None, pattern=r"^https?://")
    region: str = "us-east-1"
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    # Every object's key starts with it (several installations in one bucket).
    prefix: str = Field(default="", max_length=200, pattern=r"^([A-Za-z0-9._-]+/)*$")
    timeout_s: float = Field(default=30, gt=0, le=600)


class AttachmentSettings(BaseModel):
    """Files on entries: where their bytes are kept, and how much a user may keep."""

    store: Literal["filesystem", "s3"] = "filesystem"
    max_file_bytes: int = Field(default=100 * 1024**2, ge=1024, le=16 * 1024**3)
    # Per user, the stored bytes (each distinct file counted once).
    quota_bytes: int = Field(default=10 * 1024**3, ge=1024, le=1024**5)
    # Longest side of a thumbnail, in pixels.
    thumbnail_px: int = Field(default=480, ge=32, le=2048)
    s3: S3Settings = Field(default_factory=S3Settings)


class OpenAISettings(BaseModel):
    """An OpenAI-compatible endpoint (OpenAI, Azure, Ollama, vLLM), off unless a URL is set."""

    base_url: str | None = None  # e.g. https://api.openai.com/v1 or http://localhost:11434/v1
    api_key: SecretStr | None = None
    chat_model: str = "gpt-4o-mini"
    timeout_s: float = Field(default=30, gt=0, le=600)
    requests_per_minute: int = Field(default=60, ge=1, le=100_000)
    max_output_tokens: int = Field(default=300, ge=16, le=8192)
    # Reflections (chat) for consenting users; off to use the endpoint for embeddings only.
    reflections: bool = True
    embedding_model: str | None = None  # e.g. text-embedding-3-small
    # Voice entries with `analysis.transcription = "openai"`: the speech-to-text model
    # (`audio/transcriptions`); unset, nothing is transcribed there.
    transcription_model: str | None = "whisper-1"
    # The largest recording transcribed, here or there (OpenAI's endpoint takes 25 MB).
    max_transcription_bytes: int = Field(default=25 * 1024 * 1024, ge=1024, le=1024**3)
    embedding_dimensions: int = Field(default=1536, ge=8, le=16_000)


class AnalysisSettings(BaseModel):
    """The analysis pipeline (local models by default)."""

    max_attempts: int = Field(default=5, ge=1, le=50)
    retry_base_s: float = Field(default=2.0, gt=0, le=3600)
    # Entries pending or processing this long without a job are queued again by the sweeper.
    stuck_after_minutes: int = Field(default=10, ge=1, le=1440)
    # A job whose worker sent no heartbeat for this long is retried (the worker died).
    stalled_after_s: float = Field(default=60, gt=0, le=86_400)
    onnx_threads: int = Field(default=1, ge=1, le=64)
    # One run of a job (the models, the remote calls) may take this long; then it fails and is
    # retried like any failure. Entries are read from at most 24,000 characters, so a run
    # takes a few seconds; this is the net under anything else.
    job_timeout_s: float = Field(default=300, gt=0, le=86_400)
    # Results are kept this long (None: for as long as the entry exists).
    result_ttl_days: int | None = Field(default=None, ge=1, le=36500)
    # The active embedding model: `openai` embeds consenting users' entries remotely (others
    # stay on the local model); switching re-embeds in the background (the sweeper).
    embedding_provider: Literal["local", "openai"] = "local"
    # Voice entries: speech to text on this machine (Moonshine, in the moonshine-cpp wheel),
    # by the OpenAI-compatible provider (for users who allow it), or not at all.
    transcription: Literal["local", "openai", "off"] = "local"
    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    # Where API processes get query embeddings of the local model (they load no model):
    # unset, the `diarist embedder` that `diarist serve` runs on a unix socket under the data
    # dir; else `unix:/path/to.sock` or `http://host:port` of one running elsewhere.
    embedder_url: Annotated[str, Field(pattern=r"^(unix:/|https?://)")] | None = None
    embedder_timeout_s: float = Field(default=5, gt=0, le=60)


class SearchSettings(BaseModel):
    """Keyword, semantic and hybrid search."""

    # Semantic hits below this cosine similarity are dropped (a request may ask for another).
    min_similarity: float = Field(default=0.2, ge=-1, le=1)
    # Each list fused by hybrid search holds this many candidates (at least the page size).
    fusion_depth: int = Field(default=50, ge=10, le=500)
    # Reciprocal rank fusion's k: larger flattens the advantage of top ranks.
    rrf_k: int = Field(default=60, ge=1, le=1000)
    # Up to this many vectors, a user's entries are searched by exact k-NN; above it (and
    # without filters) through the HNSW index with iterative scans (docs/search.md).
    exact_max_vectors: int = Field(default=5000, ge=0, le=10_000_000)
    # A keyword search without filters ranks at most this many of the newest entries that
    # match (ranking reads each one's whole text index; docs/search.md).
    keyword_candidates: int = Field(default=1000, ge=20, le=1_000_000)


class RemindersSettings(BaseModel):
    """Reminders and their delivery (docs/reminders.md)."""

    # An occurrence missed by more than this (the worker was down) is not sent late.
    grace_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    # Occurrences the scheduler fires in one transaction.
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    max_per_user: int = Field(default=1000, ge=1, le=1_000_000)
    # Email and webhook deliveries: tries, and the first backoff (doubled each time).
    max_attempts: int = Field(default=6, ge=1, le=50)
    retry_base_s: float = Field(default=30, gt=0, le=86_400)
    # Sends in flight at once per worker.
    concurrency: int = Field(default=20, ge=1, le=500)
    webhook_timeout_s: float = Field(default=10, gt=0, le=120)
    # A webhook URL or a browser's push endpoint must resolve to global addresses; true allows
    # this machine's own network.
    allow_private_hosts: bool = False
    # Web push (VAPID, RFC 8292): the server's P-256 key (PEM, or the raw private key in
    # base64url). Unset: generated once into the data dir (`vapid_private_key.pem`); several
    # machines must share one.
    vapid_private_key: SecretStr | None = None
    # Who push services may contact about this server's pushes (mailto: or https:).
    vapid_subject: str = Field(default="mailto:diarist@localhost", pattern=r"^(mailto:|https://)")


class RetentionSettings(BaseModel):
    """What the worker's daily retention job keeps (docs/audit.md); 0: kept for ever."""

    # The row audit trail, in whole months (its partitions are dropped whole).
    audit_keep_months: int = Field(default=12, ge=0, le=1200)
    # Monthly partitions made ahead of time (a month with none falls in the default one).
    audit_months_ahead: int = Field(default=3, ge=1, le=24)
    security_events_days: int = Field(default=365, ge=0, le=36_500)
    # Sessions and tokens that expired or were revoked this long ago; emailed codes past use.
    ended_sessions_days: int = Field(default=30, ge=1, le=3650)
    # An entry's Idempotency-Key answers a retry for this long (the web app's offline outbox
    # sends what was written offline when the connection returns).
    idempotency_days: int = Field(default=30, ge=1, le=3650)
    # Jobs that finished (succeeded, failed, cancelled) this long ago.
    finished_jobs_days: int = Field(default=14, ge=1, le=3650)


class BackupSettings(BaseModel):
    """`diarist backup` (docs/backups.md)."""

    # Unset: `<data dir>/backups`.
    dir: Path | None = None
    # What `diarist backup prune` keeps: the newest backup of each of the last N days, ISO
    # weeks and months.
    keep_daily: int = Field(default=7, ge=0, le=366)
    keep_weekly: int = Field(default=4, ge=0, le=520)
    keep_monthly: int = Field(default=12, ge=0, le=1200)
    # pg_dump and pg_restore for an external server (their major version at least the
    # server's). Unset: the embedded wheel's.
    pg_bin_dir: Path | None = None
    # Set: backups are encrypted (AES-256-GCM, streamed; the key derived from this secret).
    # Keep it apart from the backups: without it they cannot be read.
    encryption_key: SecretStr | None = None
    # pg_dump's --compress: gzip level 1 is 5 times faster than the default level 6 for a file
    # 15 % larger (measured on bench.dataset); "none" for a file to compress elsewhere.
    compress: str = Field(
        default="gzip:1", pattern=r"^(none|gzip(:[1-9])?|lz4(:\d+)?|zstd(:\d+)?)$"
    )
    # maintenance_work_mem of a restore's index builds (HNSW, GIN).
    restore_memory_mb: int = Field(default=1024, ge=64, le=65_536)
    # The worker makes a backup (and prunes) when the newest is this old; unset: only by hand.
    every_hours: float | None = Field(default=None, gt=0, le=24 * 31)
    # verify and restore create databases, roles' grants and extensions: a superuser's URL on
    # an external server (the embedded one's is known).
    superuser_url: SecretStr | None = None
    # Point-in-time recovery (embedded server, `diarist backup pitr enable`): where the WAL is
    # archived (unset: `<data dir>/wal-archive`), how often the worker takes a base backup
    # (unset: by hand only), and how many base backups (with the WAL they need) are kept.
    wal_archive_dir: Path | None = None
    base_every_hours: float | None = Field(default=None, gt=0, le=24 * 31)
    keep_base: int = Field(default=2, ge=1, le=100)


class WebSettings(BaseModel):
    """The web app's pages (docs/web.md)."""

    # `auto`: the session cookie is Secure (and named `__Host-…`) when the request came over
    # HTTPS, as uvicorn sees it. Behind a TLS proxy that uvicorn does not trust for
    # X-Forwarded-Proto, set `always`; `never` only for a plain-HTTP test setup.
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    # The address people reach diarist at (e.g. https://journal.example.org), for the links
    # that leave the site and come back (an OpenID provider's redirect). Unset: the address
    # of the request as uvicorn sees it.
    public_url: str | None = Field(default=None, pattern=r"^https?://[^/?#]+(/[^?#]*[^/?#])?$")


# A provider's name: in URLs, in the security log and in users.auth_provider of the accounts
# it made; "email" and "otp" name the two ways in without a provider.
PROVIDER_NAME = r"^[a-z][a-z0-9_-]{0,31}$"
RESERVED_PROVIDER_NAMES = frozenset({"email", "otp"})


class OidcProvider(BaseModel):
    """One OpenID Connect provider to sign in with (docs/security.md, "Signing in with a
    provider")."""

    # Its metadata is read from <issuer>/.well-known/openid-configuration.
    issuer: str = Field(pattern=r"^https?://[^/?#]+(/[^?#]*)?$")
    client_id: str = Field(min_length=1, max_length=500)
    # Unset: a public client (PKCE alone, no client authentication at the token endpoint).
    client_secret: SecretStr | None = None
    # The button's words: "Sign in with <label>"; unset, the name.
    label: str | None = Field(default=None, min_length=1, max_length=60)
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    # Whether its addresses count as confirmed without an `email_verified` claim (a company
    # directory that never sends the claim).
    trust_email: bool = False
    # Whether someone it vouches for who has no account here gets one.
    allow_sign_up: bool = True

    @field_validator("issuer")
    @classmethod
    def _https_issuer(cls, value: str) -> str:
        host = urlsplit(value).hostname or ""
        if value.startswith("http://") and host not in {"localhost", "127.0.0.1", "::1"}:
            raise ValueError("an issuer is reached over HTTPS (plain HTTP only on this machine)")
        return value

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("the scopes must include `openid`")
        if any(not re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]+", scope) for scope in value):
            raise ValueError("a scope is one word of printable ASCII")
        return value


class OidcSettings(BaseModel):
    """Signing in with OpenID Connect providers, by name (DIARIST_OIDC__PROVIDERS)."""

    providers: dict[Annotated[str, Field(pattern=PROVIDER_NAME)], OidcProvider] = Field(
        default_factory=dict
    )
    timeout_s: float = Field(default=10, gt=0, le=120)
    # How long a sign-in may take between leaving for the provider and coming back.
    flow_minutes: int = Field(default=10, ge=1, le=60)

    @field_validator("providers")
    @classmethod
    def _not_reserved(cls, value: dict[str, OidcProvider]) -> dict[str, OidcProvider]:
        taken = RESERVED_PROVIDER_NAMES.intersection(value)
        if taken:
            raise ValueError(f"{', '.join(sorted(taken))}: reserved, not a provider's name")
        return value


def default_data_dir() -> Path:
    """`./var` inside a source checkout, otherwise the platform's user data directory."""
    checkout = Path.cwd()
    if (checkout / "pyproject.toml").is_file() and (checkout / "src" / "diarist").is_dir():
        return checkout / "var"
    return Path(platformdirs.user_data_dir("diarist", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DIARIST_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    environment: Environment = Environment.PRODUCTION
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Field(default_factory=default_data_dir)
    # The application role's URL. Unset: diarist starts its embedded PostgreSQL.
    database_url: SecretStr | None = None
    secret_key: SecretStr | None = None
    # The keys that seal personal data at rest (hex AES-256, newest first, separated by spaces
    # or commas). Unset: kept in the data dir's `personal_data_keys` (accounts/personal_data.py).
    personal_data_keys: SecretStr | None = None
    workers: int = Field(default=1, ge=1, le=64)
    auto_migrate: bool = True
    # Off by default: a self-hosted single node often has no outgoing mail.
    require_email_verification: bool = False
    auth: AuthSettings = Field(default_factory=AuthSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    journal: JournalSettings = Field(default_factory=JournalSettings)
    imports: ImportSettings = Field(default_factory=ImportSettings)
    attachments: AttachmentSettings = Field(default_factory=AttachmentSettings)
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    reminders: RemindersSettings = Field(default_factory=RemindersSettings)
    backups: BackupSettings = Field(default_factory=BackupSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    oidc: OidcSettings = Field(default_factory=OidcSettings)
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def embedded(self) -> bool:
        """True when diarist runs its own PostgreSQL under the data dir."""
        return self.database_url is None

    @property
    def embedder_url(self) -> str:
        """The query embedder's address (see AnalysisSettings.embedder_url)."""
        if self.analysis.embedder_url:
            return self.analysis.embedder_url
        return f"unix:{socket_dir(self.data_dir / 'run') / 'embedder.sock'}"

    def checked_secret_key(self) -> SecretStr:
        """The secret key, refusing placeholders outside development.

        Unset, a random key is generated once and kept in the data dir, so a single node works
        without configuration and keeps its key across restarts.
        """
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if value.strip().lower() in PLACEHOLDER_SECRETS and (
                self.environment is not Environment.DEVELOPMENT
            ):
                raise ValueError(
                    "DIARIST_SECRET_KEY is a placeholder; set a long random value "
                    "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
                )
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key_file.touch(mode=0o600)
            key_file.write_text(secrets.token_urlsafe(48))
        return SecretStr(key_file.read_text().strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built once from the environment."""
    return Settings()


async def app_settings(request: Request) -> Settings:
    """The one Settings object built at start-up, as a request dependency."""
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(app_settings)]
