"""Run items name the person they touched.

Revision ID: 0005_run_item_names
Revises: 0004_security
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_run_item_names"
down_revision = "0004_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_run_items") as batch:
        batch.add_column(sa.Column("name", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_run_items") as batch:
        batch.drop_column("name")
