"""Sync items to come back to: creates in doubt (lost answers), failed items to retry.

Revision ID: 0008_sync2
Revises: 0007_search
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from atarys.models.base import UTCDateTime

revision = "0008_sync2"
down_revision = "0007_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_pending",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("google_accounts.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True, index=True),
        sa.Column("resource_name", sa.String(200), nullable=True),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.Column("next_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sync_pending")
