"""Sync tables: Google accounts (with settings and cursors), links, runs, conflicts, duplicates.

Owned by ``atarys.sync``; created by migration ``0002_sync``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from atarys.models.base import Base, UTCDateTime, utcnow


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class GoogleAccount(Base):
    """A Google account synced with ATARYS: its cursors, settings and run lock."""

    __tablename__ = "google_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # Cursors: Google's sync token, and the ATARYS time from which clients are re-read.
    sync_token: Mapped[str | None] = mapped_column(Text, default=None)
    atarys_watermark: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    group_resource_name: Mapped[str | None] = mapped_column(String(200), default=None)
    # Settings.
    conflict_policy: Mapped[str] = mapped_column(String(20), default="newest")
    google_deletions: Mapped[str] = mapped_column(String(20), default="propagate")
    atarys_deletions: Mapped[str] = mapped_column(String(20), default="propagate")
    import_scope: Mapped[str] = mapped_column(String(20), default="all")
    auto_sync_minutes: Mapped[int] = mapped_column(Integer, default=60)
    phone_region: Mapped[str] = mapped_column(String(2), default="FR")
    breaker_ratio: Mapped[float] = mapped_column(Float, default=0.2)
    breaker_min: Mapped[int] = mapped_column(Integer, default=10)
    quota_per_minute: Mapped[dict[str, int] | None] = mapped_column(JSON, default=None)
    # Which clients go to this account's phone: {ville?, code_postal?, entreprise?, tag?},
    # every given criterion must match (``atarys.sync.core.filters``); null: all clients.
    client_filter: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    # Runs and the lock (a conditional UPDATE takes it; a stale heartbeat frees it).
    last_run_id: Mapped[int | None] = mapped_column(Integer, default=None)
    last_success_run_id: Mapped[int | None] = mapped_column(Integer, default=None)
    # Connecting writes nothing: no run until a person applies the first sync.
    first_sync_pending: Mapped[bool] = mapped_column(Boolean, default=True)
    lock_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lock_heartbeat: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def settings_dict(self) -> dict[str, Any]:
        """The settings, as the API shows them."""
        return {
            "conflict_policy": self.conflict_policy,
            "google_deletions": self.google_deletions,
            "atarys_deletions": self.atarys_deletions,
            "import_scope": self.import_scope,
            "auto_sync_minutes": self.auto_sync_minutes,
            "phone_region": self.phone_region,
            "breaker_ratio": self.breaker_ratio,
            "breaker_min": self.breaker_min,
            "quota_per_minute": self.quota_per_minute,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "group_resource_name": self.group_resource_name,
            "has_sync_token": self.sync_token is not None,
            "atarys_watermark": _iso(self.atarys_watermark),
            "last_run_id": self.last_run_id,
            "last_success_run_id": self.last_success_run_id,
            "settings": self.settings_dict(),
        }


class SyncLink(Base):
    """A client and a contact known to be the same person, with their last synced state."""

    __tablename__ = "sync_links"
    __table_args__ = (
        UniqueConstraint("account_id", "client_id", name="uq_sync_links_account_client"),
        UniqueConstraint("account_id", "resource_name", name="uq_sync_links_account_resource"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("google_accounts.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int] = mapped_column(Integer)
    resource_name: Mapped[str] = mapped_column(String(200))
    etag: Mapped[str | None] = mapped_column(String(200), default=None)
    # The last synchronised normalized mapped fields: the three-way merge's ancestor.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The client's updated_at the snapshot reflects: a client not changed since is not
    # re-read by an incremental run (no overlap-window re-reads).
    client_version: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Google fields seen differing from the snapshot: field → [value, first seen (ISO)]
    google_seen: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_id": self.client_id,
            "resource_name": self.resource_name,
            "etag": self.etag,
            "snapshot": self.snapshot,
            "synced_at": _iso(self.synced_at),
        }


class SyncRun(Base):
    """One sync run: its trigger, timing, counts, errors and API calls."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("google_accounts.id", ondelete="CASCADE"), index=True
    )
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    # running, success, partial (some items failed), failed, refused (breaker)
    status: Mapped[str] = mapped_column(String(20), default="running")
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    full_listing: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    duration_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    # {"atarys_to_google": {"created": n, ...}, "google_to_atarys": {...}}
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    api_calls: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.id,
            "account_id": self.account_id,
            "trigger": self.trigger,
            "status": self.status,
            "dry_run": self.dry_run,
            "forced": self.forced,
            "full_listing": self.full_listing,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "duration_seconds": self.duration_seconds,
            "counts": self.counts,
            "conflicts": self.conflicts,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "api_calls": self.api_calls,
            "progress": {"done": self.progress_done, "total": self.progress_total},
            "error_message": self.error_message,
        }


class SyncRunItem(Base):
    """One action of a run, with the field-level before/after values (nothing is lost)."""

    __tablename__ = "sync_run_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    resource_name: Mapped[str | None] = mapped_column(String(200), default=None)
    direction: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    # the person, as people read it ("LEFÈVRE Zoé — Menuiserie Leroy")
    name: Mapped[str | None] = mapped_column(String(300), default=None)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "client_id": self.client_id,
            "resource_name": self.resource_name,
            "direction": self.direction,
            "action": self.action,
            "changes": self.changes,
            "message": self.message,
            "created_at": _iso(self.created_at),
        }


class SyncConflict(Base):
    """A field changed differently on both sides: resolved by policy, or open for a person."""

    __tablename__ = "sync_conflicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("google_accounts.id", ondelete="CASCADE"), index=True
    )
    link_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_links.id", ondelete="SET NULL"), default=None, index=True
    )
    run_id: Mapped[int | None] = mapped_column(Integer, default=None)
    client_id: Mapped[int | None] = mapped_column(Integer, default=None)
    resource_name: Mapped[str | None] = mapped_column(String(200), default=None)
    field: Mapped[str] = mapped_column(String(20))
    snapshot_value: Mapped[str | None] = mapped_column(Text, default=None)
    atarys_value: Mapped[str | None] = mapped_column(Text, default=None)
    google_value: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    # newest / atarys / google (a policy decided) or atarys / google / value (a person did)
    resolution: Mapped[str | None] = mapped_column(String(20), default=None)
    resolved_value: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "link_id": self.link_id,
            "run_id": self.run_id,
            "client_id": self.client_id,
            "resource_name": self.resource_name,
            "field": self.field,
            "snapshot_value": self.snapshot_value,
            "atarys_value": self.atarys_value,
            "google_value": self.google_value,
            "status": self.status,
            "resolution": self.resolution,
            "resolved_value": self.resolved_value,
            "created_at": _iso(self.created_at),
            "resolved_at": _iso(self.resolved_at),
        }


class SyncDuplicate(Base):
    """Clients and/or contacts that may be the same person, reported instead of merged."""

    __tablename__ = "sync_duplicates"
    __table_args__ = (
        UniqueConstraint("account_id", "email_key", "reason", name="uq_sync_duplicates_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("google_accounts.id", ondelete="CASCADE"), index=True
    )
    email_key: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(40))
    client_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    resource_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    run_id: Mapped[int | None] = mapped_column(Integer, default=None)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email_key,
            "reason": self.reason,
            "client_ids": self.client_ids,
            "resource_names": self.resource_names,
            "status": self.status,
            "run_id": self.run_id,
            "first_seen_at": _iso(self.first_seen_at),
            "last_seen_at": _iso(self.last_seen_at),
        }


class SyncPlan(Base):
    """A previewed plan, kept so it can be applied exactly as shown (once, for 30 minutes)."""

    __tablename__ = "sync_plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("google_accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10), default="sync")  # sync, undo
    source_run_id: Mapped[int | None] = mapped_column(Integer, default=None)  # undo: the run
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, applied
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    applied_run_id: Mapped[int | None] = mapped_column(Integer, default=None)


class SyncTrash(Base):
    """A full copy of a Google contact the sync deleted (every field), kept to restore it."""

    __tablename__ = "sync_trash"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("google_accounts.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    client_id: Mapped[int | None] = mapped_column(Integer, default=None)
    resource_name: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300), default=None)
    person: Mapped[dict[str, Any]] = mapped_column(JSON)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    restored_as: Mapped[str | None] = mapped_column(String(200), default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "client_id": self.client_id,
            "name": self.name,
            "deleted_at": _iso(self.deleted_at),
            "restored_at": _iso(self.restored_at),
        }


class SyncExclusion(Base):
    """A client (never re-created in Google) or a contact (never imported again) kept out of
    the sync until a person turns it back on."""

    __tablename__ = "sync_exclusions"
    __table_args__ = (
        UniqueConstraint("account_id", "client_id", name="uq_sync_exclusions_account_client"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("google_accounts.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int | None] = mapped_column(Integer, default=None)
    resource_name: Mapped[str | None] = mapped_column(String(200), default=None)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
