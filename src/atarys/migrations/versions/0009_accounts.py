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
    # null: every client goes to this account's phone
    op.add_column("google_accounts", sa.Column("client_filter", sa.JSON(), nullable=True))
    op.add_column("clients", sa.Column("tag", sa.String(100), nullable=True))
    op.create_index("ix_clients_tag", "clients", ["tag"])


def downgrade() -> None:
    op.drop_index("ix_clients_tag", table_name="clients")
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): no table copy, indexes kept as they are
    op.execute("ALTER TABLE clients DROP COLUMN tag")
    op.execute("ALTER TABLE google_accounts DROP COLUMN client_filter")
