"""Consent, apply and undo: pending first syncs, stored plans, a trash, excluded clients.

Revision ID: 0006_trust
Revises: 0005_sync_journal
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from atarys.models.base import UTCDateTime

revision = "0006_trust"
down_revision = "0005_sync_journal"
branch_labels = None
depends_on = None


def _account_fk() -> sa.Column[int]:
    return sa.Column(
        "account_id",
        sa.Integer(),
        sa.ForeignKey("google_accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def upgrade() -> None:
    # Accounts that already synced are not pending; new ones are (the model's default).
    with op.batch_alter_table("google_accounts") as batch:
        batch.add_column(
            sa.Column("first_sync_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("google_accounts") as batch:
        batch.alter_column("first_sync_pending", server_default=None)
    # "newest" per field: when each client field and each Google field took its value
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("field_times", sa.JSON(), nullable=True))
    with op.batch_alter_table("sync_links") as batch:
        batch.add_column(sa.Column("google_seen", sa.JSON(), nullable=True))
    op.create_table(
        "sync_plans",
        sa.Column("id", sa.String(32), primary_key=True),
        _account_fk(),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("source_run_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("applied_run_id", sa.Integer(), nullable=True),
    )
    op.create_table(
        "sync_trash",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account_fk(),
        sa.Column("run_id", sa.Integer(), nullable=True, index=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("resource_name", sa.String(200), nullable=False),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("person", sa.JSON(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=False),
        sa.Column("restored_at", UTCDateTime(), nullable=True),
        sa.Column("restored_as", sa.String(200), nullable=True),
    )
    op.create_table(
        "sync_exclusions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account_fk(),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("resource_name", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("account_id", "client_id", name="uq_sync_exclusions_account_client"),
    )


def downgrade() -> None:
    op.drop_table("sync_exclusions")
    op.drop_table("sync_trash")
    op.drop_table("sync_plans")
    with op.batch_alter_table("sync_links") as batch:
        batch.drop_column("google_seen")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("field_times")
    with op.batch_alter_table("google_accounts") as batch:
        batch.drop_column("first_sync_pending")
