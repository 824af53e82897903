"""Several Google accounts: each account's client filter, and a free-text tag on clients.

Revision ID: 0009_accounts
Revises: 0008_sync2
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_accounts"
down_revision = "0008_sync2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("google_accounts") as batch:
        # null: every client goes to this account's phone
        batch.add_column(sa.Column("client_filter", sa.JSON(), nullable=True))
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("tag", sa.String(100), nullable=True))
    op.create_index("ix_clients_tag", "clients", ["tag"])


def downgrade() -> None:
    op.drop_index("ix_clients_tag", table_name="clients")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("tag")
    with op.batch_alter_table("google_accounts") as batch:
        batch.drop_column("client_filter")
