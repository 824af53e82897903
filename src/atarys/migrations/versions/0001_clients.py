"""Clients table.

Revision ID: 0001_clients
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from atarys.models.base import UTCDateTime

revision = "0001_clients"
down_revision = None
branch_labels = None
depends_on = None

LIVE_EMAIL = sa.text("deleted_at IS NULL AND email IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nom", sa.String(100), nullable=False),
        sa.Column("prenom", sa.String(100), nullable=True),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("telephone", sa.String(30), nullable=True),
        sa.Column("adresse", sa.String(200), nullable=True),
        sa.Column("ville", sa.String(100), nullable=True),
        sa.Column("code_postal", sa.String(10), nullable=True),
        sa.Column("entreprise", sa.String(200), nullable=True),
        sa.Column("fonction", sa.String(100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_clients"),
    )
    op.create_index(
        "uq_clients_email_live",
        "clients",
        [sa.text("lower(email)")],
        unique=True,
        sqlite_where=LIVE_EMAIL,
        postgresql_where=LIVE_EMAIL,
    )
    op.create_index("ix_clients_updated_at", "clients", ["updated_at"])
    op.create_index("ix_clients_deleted_at", "clients", ["deleted_at"])
    op.create_index("ix_clients_nom_prenom", "clients", ["nom", "prenom"])
    op.create_index("ix_clients_entreprise", "clients", ["entreprise"])
    op.create_index("ix_clients_ville", "clients", ["ville"])


def downgrade() -> None:
    op.drop_table("clients")
