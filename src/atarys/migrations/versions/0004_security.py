"""Sessions and tokens: a session version per user, token scopes and expiry, OAuth2 flow owner.

Revision ID: 0004_security
Revises: 0003_auth
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from atarys.models.base import UTCDateTime

revision = "0004_security"
down_revision = "0003_auth"
branch_labels = None
depends_on = None

ALL_SCOPES = "read write admin metrics"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        # Tokens made before scopes existed could do everything: they keep it.
        batch.add_column(
            sa.Column("scopes", sa.String(100), nullable=False, server_default=ALL_SCOPES)
        )
    with op.batch_alter_table("oauth_states") as batch:
        batch.add_column(sa.Column("owner", sa.String(80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_states") as batch:
        batch.drop_column("owner")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("scopes")
        batch.drop_column("expires_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
