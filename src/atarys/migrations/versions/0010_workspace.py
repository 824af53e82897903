"""Google Workspace mode: ``google_accounts.auth_mode`` ("oauth" | "workspace").

Revision ID: 0010_workspace
Revises: 0009_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_workspace"
down_revision = "0009_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("google_accounts") as batch:
        batch.add_column(
            sa.Column("auth_mode", sa.String(20), nullable=False, server_default="oauth")
        )


def downgrade() -> None:
    with op.batch_alter_table("google_accounts") as batch:
        batch.drop_column("auth_mode")
