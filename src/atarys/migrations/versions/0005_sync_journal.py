"""Run items name the person they touched; links keep the client version they reflect.

Revision ID: 0005_sync_journal
Revises: 0004_security
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from atarys.models.base import UTCDateTime

revision = "0005_sync_journal"
down_revision = "0004_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_run_items") as batch:
        batch.add_column(sa.Column("name", sa.String(300), nullable=True))
    with op.batch_alter_table("sync_links") as batch:
        batch.add_column(sa.Column("client_version", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_links") as batch:
        batch.drop_column("client_version")
    with op.batch_alter_table("sync_run_items") as batch:
        batch.drop_column("name")
