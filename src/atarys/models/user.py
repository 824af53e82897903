"""Access control and scheduling tables: users, API tokens, pending OAuth2 states, job claims."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from atarys.models.base import Base, UTCDateTime, utcnow


class User(Base):
    """A person who logs in to ATARYS (created by ``atarys create-user``)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Bumped by logout, a password change and deactivation: every older session cookie
    # (it carries the version it was issued with) is refused from then on.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


# What an API token may do: read (GET), write (other methods), admin (connect or disconnect
# Google, change the sync settings), metrics (GET /metrics for Prometheus).
TOKEN_SCOPES = ("read", "write", "admin", "metrics")


class ApiToken(Base):
    """A bearer token for scripts and cron: only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Space-separated scopes (``TOKEN_SCOPES``); tokens made before scopes existed keep all.
    scopes: Mapped[str] = mapped_column(
        String(100), default=" ".join(TOKEN_SCOPES), server_default=" ".join(TOKEN_SCOPES)
    )

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class OAuthState(Base):
    """A pending OAuth2 web flow: its ``state`` (hashed) and PKCE verifier, used once."""

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who started the flow: a hash naming the login session or the API token; the
    # callback completes only for the same one.
    owner: Mapped[str | None] = mapped_column(String(80), default=None)


class ScheduledJob(Base):
    """One scheduled job's next due time: claimed atomically so one process runs it."""

    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_status: Mapped[str | None] = mapped_column(String(30), default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(100), default=None)
