"""Shared company e-mails: several live clients may hold one e-mail address.

``info@entreprise.fr`` is often the address of everyone at a small company: the unique
index on live clients' e-mails becomes a plain one (still used to find them), and the
sync tells people apart by name where an address is shared.

Revision ID: 0011_shared_email
Revises: 0010_workspace
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_shared_email"
down_revision = "0010_workspace"
branch_labels = None
depends_on = None

LIVE_EMAIL = sa.text("deleted_at IS NULL AND email IS NOT NULL")


def upgrade() -> None:
    op.drop_index("uq_clients_email_live", table_name="clients")
    op.create_index(
        "ix_clients_email_live",
        "clients",
        [sa.text("lower(email)")],
        sqlite_where=LIVE_EMAIL,
        postgresql_where=LIVE_EMAIL,
    )


def downgrade() -> None:
    # Only possible while no two live clients share an address (the index refuses it).
    op.drop_index("ix_clients_email_live", table_name="clients")
    op.create_index(
        "uq_clients_email_live",
        "clients",
        [sa.text("lower(email)")],
        unique=True,
        sqlite_where=LIVE_EMAIL,
        postgresql_where=LIVE_EMAIL,
    )
