"""Settings: the one place that reads the environment.

Every ``ATARYS_*`` variable is read here and nowhere else; the rest of the code
takes a ``Settings`` (or the Flask config built from it).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

GOOGLE_API_ENDPOINT_DEFAULT = "https://people.googleapis.com/"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Everything the application is configured with."""

    data_dir: Path = field(default_factory=lambda: Path("data"))
    log_dir: Path = field(default_factory=lambda: Path("logs"))
    database_url: str | None = None
    secret_key: str | None = None
    phone_region: str = "FR"
    google_api_endpoint: str = GOOGLE_API_ENDPOINT_DEFAULT
    token_key: str | None = None
    # Access control and scheduling (the REST API work).
    secure_cookies: bool = False
    login_rate_limit: str = "10 per minute"
    poll_minutes: int = 5
    push_delay_seconds: float = 2.0
    scheduler_enabled: bool = True
    testing: bool = False
    demo: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        """Read the ``ATARYS_*`` environment variables."""
        return cls(
            data_dir=Path(_env("ATARYS_DATA_DIR", "data") or "data"),
            log_dir=Path(_env("ATARYS_LOG_DIR", "logs") or "logs"),
            database_url=_env("ATARYS_DATABASE_URL"),
            secret_key=_env("ATARYS_SECRET_KEY"),
            phone_region=(_env("ATARYS_PHONE_REGION", "FR") or "FR").upper(),
            google_api_endpoint=_env("ATARYS_GOOGLE_API_ENDPOINT", GOOGLE_API_ENDPOINT_DEFAULT)
            or GOOGLE_API_ENDPOINT_DEFAULT,
            token_key=_env("ATARYS_TOKEN_KEY"),
            secure_cookies=(_env("ATARYS_SECURE_COOKIES", "0") or "0").lower()
            in ("1", "true", "yes", "on"),
            login_rate_limit=_env("ATARYS_LOGIN_RATE_LIMIT", "10 per minute") or "10 per minute",
            poll_minutes=int(_env("ATARYS_POLL_MINUTES", "5") or "5"),
            push_delay_seconds=float(_env("ATARYS_PUSH_DELAY_SECONDS", "2") or "2"),
            scheduler_enabled=(_env("ATARYS_SCHEDULER", "1") or "1").lower()
            not in ("0", "false", "no", "off"),
        )

    def with_overrides(self, overrides: dict[str, Any] | None) -> Settings:
        """A copy with the given fields replaced; unknown keys go to ``extra``."""
        if not overrides:
            return self
        known = {f.name for f in fields(self)}
        values = {k: v for k, v in overrides.items() if k in known}
        for key in ("data_dir", "log_dir"):
            if key in values:
                values[key] = Path(values[key])
        extra = dict(self.extra)
        extra.update({k: v for k, v in overrides.items() if k not in known})
        return replace(self, **values, extra=extra)

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or a SQLite file under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'atarys.db').resolve()}"

    @property
    def google_credentials_file(self) -> Path:
        """The OAuth2 client secrets file (the seed's ``data/google_credentials.json``)."""
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
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
        return key
