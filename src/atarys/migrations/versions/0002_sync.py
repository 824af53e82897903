"""Sync tables: Google accounts, links, runs, run items, conflicts (owned by the sync engine).

Revision ID: 0002_sync
Revises: 0001_clients
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from atarys.models.base import UTCDateTime

revision = "0002_sync"
down_revision = "0001_clients"
branch_labels = None
depends_on = None


def _account_fk() -> sa.Column[int]:
    return sa.Column(
        "account_id",
        sa.Integer(),
        sa.ForeignKey("google_accounts.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "google_accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("sync_token", sa.Text(), nullable=True),
        sa.Column("atarys_watermark", UTCDateTime(), nullable=True),
        sa.Column("group_resource_name", sa.String(200), nullable=True),
        sa.Column("conflict_policy", sa.String(20), nullable=False),
        sa.Column("google_deletions", sa.String(20), nullable=False),
        sa.Column("atarys_deletions", sa.String(20), nullable=False),
        sa.Column("import_scope", sa.String(20), nullable=False),
        sa.Column("auto_sync_minutes", sa.Integer(), nullable=False),
        sa.Column("phone_region", sa.String(2), nullable=False),
        sa.Column("breaker_ratio", sa.Float(), nullable=False),
        sa.Column("breaker_min", sa.Integer(), nullable=False),
        sa.Column("quota_per_minute", sa.JSON(), nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("last_success_run_id", sa.Integer(), nullable=True),
        sa.Column("lock_owner", sa.String(64), nullable=True),
        sa.Column("lock_heartbeat", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_google_accounts"),
        sa.UniqueConstraint("email", name="uq_google_accounts_email"),
    )
    op.create_table(
        "sync_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account_fk(),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("resource_name", sa.String(200), nullable=False),
        sa.Column("etag", sa.String(200), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("synced_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sync_links"),
        sa.UniqueConstraint("account_id", "client_id", name="uq_sync_links_account_client"),
        sa.UniqueConstraint("account_id", "resource_name", name="uq_sync_links_account_resource"),
    )
    op.create_index("ix_sync_links_account_id", "sync_links", ["account_id"])
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account_fk(),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("full_listing", sa.Boolean(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("api_calls", sa.JSON(), nullable=False),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sync_runs"),
    )
    op.create_index("ix_sync_runs_account_id", "sync_runs", ["account_id"])
    op.create_table(
        "sync_run_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "run_id",
            sa.Integer(),
            sa.ForeignKey("sync_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("resource_name", sa.String(200), nullable=True),
        sa.Column("direction", sa.String(20), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sync_run_items"),
    )
    op.create_index("ix_sync_run_items_run_id", "sync_run_items", ["run_id"])
    op.create_index("ix_sync_run_items_client_id", "sync_run_items", ["client_id"])
    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account_fk(),
        sa.Column(
            "link_id",
            sa.Integer(),
            sa.ForeignKey("sync_links.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("resource_name", sa.String(200), nullable=True),
        sa.Column("field", sa.String(20), nullable=False),
        sa.Column("snapshot_value", sa.Text(), nullable=True),
        sa.Column("atarys_value", sa.Text(), nullable=True),
        sa.Column("google_value", sa.Text(), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("resolution", sa.String(20), nullable=True),
        sa.Column("resolved_value", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sync_conflicts"),
    )
    op.create_index("ix_sync_conflicts_account_id", "sync_conflicts", ["account_id"])
    op.create_index("ix_sync_conflicts_link_id", "sync_conflicts", ["link_id"])
    op.create_index("ix_sync_conflicts_status", "sync_conflicts", ["status"])
    op.create_table(
        "sync_duplicates",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account_fk(),
        sa.Column("email_key", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("client_ids", sa.JSON(), nullable=False),
        sa.Column("resource_names", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sync_duplicates"),
        sa.UniqueConstraint("account_id", "email_key", "reason", name="uq_sync_duplicates_key"),
    )
    op.create_index("ix_sync_duplicates_account_id", "sync_duplicates", ["account_id"])
    op.create_index("ix_sync_duplicates_status", "sync_duplicates", ["status"])


def downgrade() -> None:
    for table in (
        "sync_duplicates",
        "sync_conflicts",
        "sync_run_items",
        "sync_runs",
        "sync_links",
        "google_accounts",
    ):
        op.drop_table(table)
