"""Settings: the one place that reads the environment.

Every ``ATARYS_*`` variable is read here (by pydantic-settings) and nowhere else; the
rest of the code takes a ``Settings`` (or the Flask config built from it). A field
``name`` is read from ``ATARYS_NAME``; an empty variable counts as unset. A value
that does not parse (``ATARYS_POLL_MINUTES=abc``) stops the start with a message
naming the variable.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

GOOGLE_API_ENDPOINT_DEFAULT = "https://people.googleapis.com/"
DEFAULT_HSTS_SECONDS = 365 * 24 * 3600


class Settings(BaseSettings):
    """Everything the application is configured with."""

    model_config = SettingsConfigDict(
        env_prefix="ATARYS_",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    data_dir: Path = Path("data")
    log_dir: Path = Path("logs")
    database_url: str | None = None
    secret_key: str | None = None
    phone_region: str = "FR"
    google_api_endpoint: str = GOOGLE_API_ENDPOINT_DEFAULT
    # The Fernet key of the Google tokens. In production keep it outside the data dir
    # (an environment variable of the service), so a copy of the data dir alone is useless.
    token_key: str | None = None
    # Access control and scheduling (the REST API work).
    # Secure cookies: also on, whatever this says, when ``public_url`` is https.
    secure_cookies: bool = False
    # Failed logins allowed per (user name, client address)...
    login_rate_limit: str = "10 per minute"
    # ... and per user name from all addresses together (a higher ceiling).
    login_user_rate_limit: str = "30 per minute"
    poll_minutes: float = Field(default=5, ge=0)
    # How often the scheduler looks for due jobs (seconds).
    scheduler_tick_seconds: float = Field(default=30.0, gt=0, le=3600)
    # The job queue: a Redis URL (redis://127.0.0.1:6379/0) in production, where the web
    # processes only enqueue and ``atarys worker`` processes run the jobs; empty: embedded
    # (jobs run in a thread pool of ``atarys serve``, no extra service).
    queue_url: str | None = None
    # Key prefix in Redis: two installations may share one Redis.
    queue_namespace: str = Field(default="atarys", pattern=r"^[A-Za-z0-9_.:-]{1,50}$")
    # Jobs (so accounts) run at once by one worker process.
    worker_concurrency: int = Field(default=4, ge=1, le=64)
    # Client edits queue a debounced push to the connected accounts (default: on, except
    # in tests, whose runs would otherwise race the pushes; they turn it on when wanted).
    push_enabled: bool | None = Field(
        default=None, validation_alias=AliasChoices("ATARYS_PUSH", "push_enabled")
    )
    # People API calls per day for the whole project (every account); 0: no limit. Past it,
    # jobs wait for the next day (UTC).
    daily_quota: int = Field(default=0, ge=0)
    # A synchronous ``sync-all`` arriving while another run holds the account waits this
    # long for it to end, then runs (and answers 409 only past it).
    sync_wait_seconds: float = Field(default=60.0, ge=0, le=3600)
    push_delay_seconds: float = 2.0
    scheduler_enabled: bool = Field(
        default=True,
        validation_alias=AliasChoices("ATARYS_SCHEDULER", "scheduler_enabled"),
    )
    testing: bool = False
    demo: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)
    # --- sessions, proxies, files (the security work) ---
    # Absolute lifetime of a login session: requests do not extend it.
    session_lifetime_hours: float = Field(default=12.0, gt=0, le=24 * 90)
    # How many reverse proxies stand in front of the app (werkzeug's ProxyFix): their
    # X-Forwarded-For/-Proto/-Host/-Port are trusted, nobody else's. 0: none trusted.
    trusted_proxies: int = Field(default=0, ge=0, le=10)
    # The address people use, e.g. https://atarys.example.fr: the OAuth2 redirect URI is
    # built from it (never from a Host header); https turns on Secure cookies and HSTS.
    public_url: str | None = None
    hsts_seconds: int = Field(default=DEFAULT_HSTS_SECONDS, ge=0)
    # ``atarys serve --demo`` keeps everything here, never in ``data_dir``.
    demo_data_dir: Path = Path("demo-data")
    # The OAuth2 client secrets file; default ``<data_dir>/google_credentials.json``.
    google_credentials_path: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("ATARYS_GOOGLE_CREDENTIALS_FILE", "google_credentials_path"),
    )

    @field_validator("phone_region")
    @classmethod
    def _upper_region(cls, value: str) -> str:
        return value.strip().upper()

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        parsed = urlsplit(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query:
            raise ValueError("must be an absolute http(s) URL, e.g. https://atarys.example.fr")
        return value

    @classmethod
    def from_env(cls) -> Settings:
        """Read the ``ATARYS_*`` environment variables."""
        return cls()

    def with_overrides(self, overrides: dict[str, Any] | None) -> Settings:
        """A copy with the given fields replaced; unknown keys go to ``extra``."""
        if not overrides:
            return self
        known = set(type(self).model_fields)
        values = {k: v for k, v in overrides.items() if k in known}
        extra = dict(self.extra)
        extra.update({k: v for k, v in overrides.items() if k not in known})
        merged = {**self.model_dump(), **values, "extra": extra}
        return type(self).model_validate(merged)

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or a SQLite file under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.sqlite_file}"

    @property
    def sqlite_file(self) -> Path:
        """The default SQLite database file (used when no database URL is configured)."""
        return (self.data_dir / "atarys.db").resolve()

    @property
    def pushes(self) -> bool:
        """Whether client edits queue pushes (``push_enabled``, else on outside tests)."""
        return self.push_enabled if self.push_enabled is not None else not self.testing

    @property
    def https(self) -> bool:
        """Whether people reach the app over HTTPS (the public URL says so)."""
        return bool(self.public_url and self.public_url.startswith("https://"))

    @property
    def cookies_secure(self) -> bool:
        """Secure cookies: asked for, or implied by an https public URL."""
        return self.secure_cookies or self.https

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.session_lifetime_hours)

    @property
    def google_credentials_file(self) -> Path:
        """The OAuth2 client secrets file (the seed's ``data/google_credentials.json``)."""
        if self.google_credentials_path is not None:
            return self.google_credentials_path
        return self.data_dir / "google_credentials.json"

    @property
    def legacy_token_file(self) -> Path:
        """The seed's pickle token: detected to advise reconnecting, never loaded."""
        return self.data_dir / "google_contacts_token.pickle"

    @property
    def google_tokens_dir(self) -> Path:
        """Encrypted Google tokens, one file per account."""
        return self.data_dir / "google_tokens"

    def ensure_secret_key(self) -> str:
        """The secret key: from the environment, or generated once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
        return key
