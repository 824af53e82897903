"""Access control tables: users and API tokens (owned by the REST API work).

Revision ID: 0003_auth
Revises: 0002_sync
"""

from __future__ import annotations

revision = "0003_auth"
down_revision = "0002_sync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
