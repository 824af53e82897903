"""Sync tables: Google accounts, links, runs, run items, conflicts (owned by the sync engine).

Revision ID: 0002_sync
Revises: 0001_clients
"""

from __future__ import annotations

revision = "0002_sync"
down_revision = "0001_clients"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
