"""Clients carry folded search and sort keys (accent- and case-insensitive, phone digits).

Revision ID: 0007_search
Revises: 0006_trust
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from atarys.models.client import CLIENT_FIELDS, fold, search_key_of

revision = "0007_search"
down_revision = "0006_trust"
branch_labels = None
depends_on = None

BATCH = 500


def upgrade() -> None:
    # Plain ALTER TABLE on both databases (no batch copy of the table on SQLite, which
    # would lose the expression index on lower(email)).
    op.add_column("clients", sa.Column("search_key", sa.Text(), nullable=True))
    op.add_column("clients", sa.Column("sort_nom", sa.String(100), nullable=True))
    op.add_column("clients", sa.Column("sort_prenom", sa.String(100), nullable=True))
    op.create_index("ix_clients_sort_name", "clients", ["sort_nom", "sort_prenom"])
    clients = sa.table(
        "clients",
        sa.column("id", sa.Integer),
        *(sa.column(name, sa.String) for name in CLIENT_FIELDS),
        sa.column("search_key", sa.Text),
        sa.column("sort_nom", sa.String),
        sa.column("sort_prenom", sa.String),
    )
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(clients.c.id, *(clients.c[name] for name in CLIENT_FIELDS))
            .where(clients.c.id > last)
            .order_by(clients.c.id)
            .limit(BATCH)
        ).mappings()
        batch_rows = list(rows)
        if not batch_rows:
            break
        for row in batch_rows:
            values = dict(row)
            conn.execute(
                clients.update()
                .where(clients.c.id == row["id"])
                .values(
                    search_key=search_key_of(values),
                    sort_nom=fold(values["nom"])[:100],
                    sort_prenom=fold(values["prenom"])[:100],
                )
            )
        last = batch_rows[-1]["id"]


def downgrade() -> None:
    op.drop_index("ix_clients_sort_name", table_name="clients")
    for column in ("sort_prenom", "sort_nom", "search_key"):  # SQLite 3.35+ drops columns
        op.execute(f"ALTER TABLE clients DROP COLUMN {column}")
